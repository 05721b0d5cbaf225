package dev.bulkhead.router;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * An in-process model's engine meters, read from its current engine's own registry.
 *
 * @param current the current engine's registry, or null while the model has no engine
 */
record RegistryMeterSource(Supplier<MeterRegistry> current) implements EngineMeterSource {

    @Override
    public double gauge(Meter.Id id) {
        return find(id) instanceof Gauge g ? g.value() : Double.NaN;
    }

    @Override
    public double count(Meter.Id id) {
        return switch (find(id)) {
            case Counter c -> c.count();
            case FunctionCounter c -> c.count();
            case null, default -> 0;
        };
    }

    @Override
    public long timerCount(Meter.Id id) {
        return find(id) instanceof Timer t ? t.count() : 0;
    }

    @Override
    public double timerNanos(Meter.Id id) {
        return find(id) instanceof Timer t ? t.totalTime(TimeUnit.NANOSECONDS) : 0;
    }

    private Meter find(Meter.Id id) {
        MeterRegistry r = current.get();
        return r == null ? null : r.find(id.getName()).tags(id.getTagsAsIterable()).meter();
    }
}
