package dev.bulkhead.router;

import java.util.List;
import java.util.Map;

/**
 * Fault injection for drills. Off by default: with {@code enabled} false no runner is wrapped and
 * {@link FaultInjector} refuses every fault.
 *
 * @param enabled        whether faults may be injected
 * @param slowStepMillis extra time of every step of a model with {@link Fault#SLOW_STEPS}, default 200
 * @param hangMillis     longest a {@link Fault#HUNG_STEP} holds a step when nobody clears it, default 600 000
 * @param inject         faults active from the start, by model name
 */
public record FaultSpec(boolean enabled, long slowStepMillis, long hangMillis, Map<String, List<Fault>> inject) {

    public FaultSpec {
        slowStepMillis = slowStepMillis == 0 ? 200 : slowStepMillis;
        hangMillis = hangMillis == 0 ? 600_000 : hangMillis;
        inject = inject == null ? Map.of() : Map.copyOf(inject);
        if (slowStepMillis < 1 || hangMillis < 1) {
            throw new IllegalArgumentException("faults slowStepMillis and hangMillis must be >= 1, got "
                    + slowStepMillis + ", " + hangMillis);
        }
        if (!enabled && !inject.isEmpty()) {
            throw new IllegalArgumentException("faults.inject lists faults but faults.enabled is false");
        }
    }

    public static FaultSpec off() {
        return new FaultSpec(false, 0, 0, null);
    }

    /** Enabled, nothing injected yet. */
    public static FaultSpec enabled(long slowStepMillis) {
        return new FaultSpec(true, slowStepMillis, 0, null);
    }
}
