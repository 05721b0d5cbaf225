package dev.bulkhead.router;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One model's engine metrics in the user's registry, across restarts. Each engine keeps its meters in a registry of
 * its own (its gauges hold its loop, so a replaced engine must not stay reachable from the user's registry, and a
 * replacement must never collide with a predecessor that is still shutting down), or in its worker process; this
 * registers, once per meter, a meter of the same name and tags in the user's registry that reads the model's current
 * engine through an {@link EngineMeterSource}. Gauges read its value (a timer's quantiles among them, as the
 * {@code .percentile} gauges of a registry without quantiles of its own), counters its count, timers their count
 * and total time (distribution summaries stay in the engine's own registry and in the server's {@code /metrics}).
 * While no engine runs, gauges read NaN and counters and timers 0; counters start again from 0 after a restart,
 * which Prometheus-style consumers read as a counter reset.
 */
final class EngineMeterBridge implements AutoCloseable {

    private final MeterRegistry target;
    private final EngineMeterSource source;
    private final Set<Meter.Id> bridged = new HashSet<>();
    private final List<Meter> registered = new ArrayList<>();

    /**
     * @param target the user's registry
     * @param source the model's current engine's meters
     */
    EngineMeterBridge(MeterRegistry target, EngineMeterSource source) {
        this.target = target;
        this.source = source;
    }

    /** The ids of every meter in {@code registry}, for {@link #bridge}. */
    static List<Meter.Id> idsOf(MeterRegistry registry) {
        return registry.getMeters().stream().map(Meter::getId).toList();
    }

    /** Bridges every meter of {@code ids} not bridged yet (an engine may register more as it goes). */
    synchronized void bridge(Collection<Meter.Id> ids) {
        for (Meter.Id id : ids) {
            if (bridged.add(id)) {
                Meter b = bridgeOf(id);
                if (b != null) {
                    registered.add(b);
                }
            }
        }
    }

    private Meter bridgeOf(Meter.Id id) {
        String name = id.getName();
        EngineMeterSource s = source;
        return switch (id.getType()) {
            case GAUGE -> Gauge.builder(name, s, x -> x.gauge(id)).tags(id.getTagsAsIterable())
                    .description(id.getDescription()).baseUnit(id.getBaseUnit()).register(target);
            case COUNTER -> FunctionCounter.builder(name, s, x -> x.count(id)).tags(id.getTagsAsIterable())
                    .description(id.getDescription()).baseUnit(id.getBaseUnit()).register(target);
            case TIMER -> FunctionTimer.builder(name, s, x -> x.timerCount(id), x -> x.timerNanos(id),
                    TimeUnit.NANOSECONDS).tags(id.getTagsAsIterable()).description(id.getDescription()).register(target);
            // NOTE: distribution summaries (tokens per step) stay in the engine's registry: a count and a total
            // without their buckets would mislead more than they tell.
            default -> null;
        };
    }

    /** Removes the bridged meters from the user's registry. */
    @Override
    public synchronized void close() {
        registered.forEach(target::remove);
        registered.clear();
        bridged.clear();
    }
}
