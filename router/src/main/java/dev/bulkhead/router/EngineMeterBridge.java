package dev.bulkhead.router;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One model's engine metrics in the user's registry, across restarts. Each engine keeps its meters in a registry of
 * its own (its gauges hold its loop, so a replaced engine must not stay reachable from the user's registry, and a
 * replacement must never collide with a predecessor that is still shutting down); this registers, once per meter,
 * a meter of the same name and tags in the user's registry that reads the model's current engine. Gauges read its
 * value, counters its count, timers their count and total time (percentiles stay in the engine's own registry and
 * in the server's {@code /metrics}). While no engine runs, gauges read NaN and counters and timers 0; counters start
 * again from 0 after a restart, which Prometheus-style consumers read as a counter reset.
 */
final class EngineMeterBridge implements AutoCloseable {

    private final MeterRegistry target;
    private final Supplier<MeterRegistry> current;
    private final Set<Meter.Id> bridged = new HashSet<>();
    private final List<Meter> registered = new ArrayList<>();

    /**
     * @param target  the user's registry
     * @param current the model's current engine's own registry, or null while it has none (or runs in a worker)
     */
    EngineMeterBridge(MeterRegistry target, Supplier<MeterRegistry> current) {
        this.target = target;
        this.current = current;
    }

    /** Bridges every meter of {@code engineMeters} not bridged yet (an engine registers more as it goes). */
    synchronized void bridge(MeterRegistry engineMeters) {
        if (engineMeters == null || engineMeters == target) {
            return;
        }
        for (Meter m : engineMeters.getMeters()) {
            Meter.Id id = m.getId();
            if (bridged.add(id)) {
                Meter b = bridgeOf(m, id);
                if (b != null) {
                    registered.add(b);
                }
            }
        }
    }

    private Meter bridgeOf(Meter m, Meter.Id id) {
        String name = id.getName();
        if (m instanceof Gauge) {
            return Gauge.builder(name, this, s -> s.read(id, Double.NaN)).tags(id.getTags())
                    .description(id.getDescription()).baseUnit(id.getBaseUnit()).register(target);
        }
        if (m instanceof Counter || m instanceof FunctionCounter) {
            return FunctionCounter.builder(name, this, s -> s.read(id, 0)).tags(id.getTags())
                    .description(id.getDescription()).baseUnit(id.getBaseUnit()).register(target);
        }
        if (m instanceof Timer) {
            return FunctionTimer.builder(name, this, s -> s.timerCount(id), s -> s.timerNanos(id), TimeUnit.NANOSECONDS)
                    .tags(id.getTags()).description(id.getDescription()).register(target);
        }
        // NOTE: distribution summaries (tokens per step) stay in the engine's registry: a count and a total
        // without their buckets would mislead more than they tell.
        return null;
    }

    private double read(Meter.Id id, double absent) {
        MeterRegistry r = current.get();
        Meter m = r == null ? null : r.find(id.getName()).tags(id.getTags()).meter();
        if (m instanceof Gauge g) {
            return g.value();
        }
        if (m instanceof Counter c) {
            return c.count();
        }
        if (m instanceof FunctionCounter c) {
            return c.count();
        }
        return absent;
    }

    private long timerCount(Meter.Id id) {
        Timer t = timer(id);
        return t == null ? 0 : t.count();
    }

    private double timerNanos(Meter.Id id) {
        Timer t = timer(id);
        return t == null ? 0 : t.totalTime(TimeUnit.NANOSECONDS);
    }

    private Timer timer(Meter.Id id) {
        MeterRegistry r = current.get();
        return r == null ? null : r.find(id.getName()).tags(id.getTags()).timer();
    }

    /** Removes the bridged meters from the user's registry. */
    @Override
    public synchronized void close() {
        registered.forEach(target::remove);
        registered.clear();
        bridged.clear();
    }
}
