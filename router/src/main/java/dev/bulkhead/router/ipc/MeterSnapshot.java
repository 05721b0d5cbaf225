package dev.bulkhead.router.ipc;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.HistogramSupport;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.core.instrument.util.DoubleFormat;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A worker's engine meters at one moment, by Micrometer id (the answer to STATS_REQ): gauges, counters and timers
 * with their names, tags, unit and description as the engine registered them, so the router can show them under
 * exactly the names an in-process engine's have. NOTE: structured rather than the worker's Prometheus text, which
 * cannot be read back into Micrometer names ({@code bulkhead_kv_cache_usage} could be {@code bulkhead.kv_cache.usage}
 * or {@code bulkhead.kv.cache.usage}). Distribution summaries are left out, as the in-process bridge leaves them out;
 * percentiles come as the gauges an in-process engine's registry has for them.
 *
 * @param readings every meter's reading, by id (name and tags)
 */
public record MeterSnapshot(Map<Meter.Id, Reading> readings) {

    /** No meters: a worker still loading, or one whose engine closed. */
    public static final MeterSnapshot EMPTY = new MeterSnapshot(Map.of());

    private static final int GAUGE = 1;
    private static final int COUNTER = 2;
    private static final int TIMER = 3;
    // NOTE: the smallest meter on the wire: an empty name, kind, no tags, two null strings, f64 and i64.
    private static final int MIN_METER_BYTES = 4 + 1 + 4 + 4 + 4 + 8 + 8;
    private static final int MIN_TAG_BYTES = 8;

    /**
     * One meter's reading.
     *
     * @param id    its id; {@link Meter.Id#getType()} is {@code GAUGE}, {@code COUNTER} or {@code TIMER}
     * @param value a gauge's value, a counter's count, a timer's total time in nanoseconds
     * @param count a timer's number of events; 0 for the others
     */
    public record Reading(Meter.Id id, double value, long count) {
    }

    public MeterSnapshot {
        readings = Map.copyOf(readings);
    }

    /** The gauges, counters and timers of {@code registry} now. */
    public static MeterSnapshot of(MeterRegistry registry) {
        Map<Meter.Id, Reading> out = new LinkedHashMap<>();
        for (Meter m : registry.getMeters()) {
            Reading r = switch (m) {
                case Gauge g -> reading(m, Meter.Type.GAUGE, g.value(), 0);
                case Counter c -> reading(m, Meter.Type.COUNTER, c.count(), 0);
                case FunctionCounter c -> reading(m, Meter.Type.COUNTER, c.count(), 0);
                case Timer t -> reading(m, Meter.Type.TIMER, t.totalTime(TimeUnit.NANOSECONDS), t.count());
                case FunctionTimer t -> reading(m, Meter.Type.TIMER, t.totalTime(TimeUnit.NANOSECONDS),
                        (long) t.count());
                default -> null;
            };
            if (r != null) {
                out.put(r.id(), r);
            }
            if (m instanceof HistogramSupport h) {
                percentiles(h, out);
            }
        }
        return new MeterSnapshot(out);
    }

    /**
     * A timer's or summary's percentiles as the gauges a registry without percentiles of its own (the in-process
     * engine's {@code SimpleMeterRegistry}) registers for them: {@code <name>.percentile{phi="0.5"}} in the meter's
     * base unit. NOTE: a Prometheus registry keeps them inside the timer, so they are made here, named as
     * Micrometer's {@code HistogramGauges} names them, for a worker model to show what an in-process model shows.
     */
    private static void percentiles(HistogramSupport h, Map<Meter.Id, Reading> out) {
        Meter.Id id = h.getId();
        for (ValueAtPercentile p : h.takeSnapshot().percentileValues()) {
            Meter.Id g = new Meter.Id(id.getName() + ".percentile",
                    Tags.of(id.getTagsAsIterable()).and("phi", DoubleFormat.decimalOrNan(p.percentile())),
                    id.getBaseUnit(), null, Meter.Type.GAUGE);
            out.put(g, new Reading(g, h instanceof Timer t ? p.value(t.baseTimeUnit()) : p.value(), 0));
        }
    }

    private static Reading reading(Meter m, Meter.Type type, double value, long count) {
        Meter.Id id = m.getId();
        return new Reading(new Meter.Id(id.getName(), Tags.of(id.getTagsAsIterable()), id.getBaseUnit(),
                id.getDescription(), type), value, count);
    }

    /** The reading of {@code id}, or null when the worker has no such meter. */
    public Reading get(Meter.Id id) {
        return readings.get(id);
    }

    /**
     * Writes {@code i32 n}, then per meter {@code str name}, {@code u8 kind} (1 gauge, 2 counter, 3 timer),
     * {@code i32 tags} + that many {@code (str key, str value)}, {@code str baseUnit}, {@code str description},
     * {@code f64 value}, {@code i64 count}.
     */
    public void write(WireOut out) {
        out.i32(readings.size());
        for (Reading r : readings.values()) {
            Meter.Id id = r.id();
            out.str(id.getName()).u8(switch (id.getType()) {
                case GAUGE -> GAUGE;
                case COUNTER -> COUNTER;
                default -> TIMER;
            });
            List<Tag> tags = id.getTags();
            out.i32(tags.size());
            for (Tag t : tags) {
                out.str(t.getKey()).str(t.getValue());
            }
            out.str(id.getBaseUnit()).str(id.getDescription()).f64(r.value()).i64(r.count());
        }
    }

    /** Reads what {@link #write} wrote; anything else is a {@link ProtocolException}. */
    public static MeterSnapshot read(WireIn in) {
        int n = in.count(MIN_METER_BYTES);
        Map<Meter.Id, Reading> out = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            String name = in.str();
            int kind = in.u8();
            Meter.Type type = switch (kind) {
                case GAUGE -> Meter.Type.GAUGE;
                case COUNTER -> Meter.Type.COUNTER;
                case TIMER -> Meter.Type.TIMER;
                default -> throw new ProtocolException("meter " + name + " of unknown kind " + kind);
            };
            if (name == null || name.isBlank()) {
                throw new ProtocolException("a meter without a name");
            }
            int tagCount = in.count(MIN_TAG_BYTES);
            List<Tag> tags = new ArrayList<>(tagCount);
            for (int t = 0; t < tagCount; t++) {
                String key = in.str();
                String value = in.str();
                if (key == null || value == null) {
                    throw new ProtocolException("meter " + name + " has a null tag key or value");
                }
                tags.add(Tag.of(key, value));
            }
            Meter.Id id = new Meter.Id(name, Tags.of(tags), in.str(), in.str(), type);
            if (out.put(id, new Reading(id, in.f64(), in.i64())) != null) {
                throw new ProtocolException("meter " + id + " sent twice");
            }
        }
        return new MeterSnapshot(out);
    }
}
