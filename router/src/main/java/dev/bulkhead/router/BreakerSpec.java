package dev.bulkhead.router;

import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.time.Duration;

/**
 * One model's circuit breaker (Resilience4j, count-based window). Zero means the default.
 *
 * @param window            calls in the sliding window, default 20
 * @param minimumCalls      calls before the failure rate counts, default 10
 * @param failureRatePct    failure percentage that opens it, default 50
 * @param slowCallMillis    a call slower than this counts as slow, default 10 000
 * @param slowCallRatePct   slow-call percentage that opens it, default 100
 * @param openMillis        how long it stays open before trial calls, default 2 000
 * @param halfOpenCalls     trial calls in the half-open state, default 3
 */
public record BreakerSpec(int window, int minimumCalls, float failureRatePct, long slowCallMillis,
                          float slowCallRatePct, long openMillis, int halfOpenCalls) {

    public BreakerSpec {
        window = window == 0 ? 20 : window;
        minimumCalls = minimumCalls == 0 ? 10 : minimumCalls;
        failureRatePct = failureRatePct == 0 ? 50 : failureRatePct;
        slowCallMillis = slowCallMillis == 0 ? 10_000 : slowCallMillis;
        slowCallRatePct = slowCallRatePct == 0 ? 100 : slowCallRatePct;
        openMillis = openMillis == 0 ? 2_000 : openMillis;
        halfOpenCalls = halfOpenCalls == 0 ? 3 : halfOpenCalls;
        if (window < 1 || minimumCalls < 1 || halfOpenCalls < 1 || slowCallMillis < 1 || openMillis < 1) {
            throw new IllegalArgumentException("breaker window, minimumCalls, halfOpenCalls, slowCallMillis and "
                    + "openMillis must be >= 1, got " + window + ", " + minimumCalls + ", " + halfOpenCalls + ", "
                    + slowCallMillis + ", " + openMillis);
        }
        if (!(failureRatePct > 0 && failureRatePct <= 100) || !(slowCallRatePct > 0 && slowCallRatePct <= 100)) {
            throw new IllegalArgumentException("breaker failureRatePct and slowCallRatePct must be in (0, 100], got "
                    + failureRatePct + ", " + slowCallRatePct);
        }
    }

    public static BreakerSpec defaults() {
        return new BreakerSpec(0, 0, 0, 0, 0, 0, 0);
    }

    /** The Resilience4j config. */
    public CircuitBreakerConfig toConfig() {
        return CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(window)
                .minimumNumberOfCalls(minimumCalls)
                .failureRateThreshold(failureRatePct)
                .slowCallDurationThreshold(Duration.ofMillis(slowCallMillis))
                .slowCallRateThreshold(slowCallRatePct)
                .waitDurationInOpenState(Duration.ofMillis(openMillis))
                .permittedNumberOfCallsInHalfOpenState(halfOpenCalls)
                // NOTE: OPEN -> HALF_OPEN happens on the next permission check; no scheduler thread needed.
                .automaticTransitionFromOpenToHalfOpenEnabled(false)
                .build();
    }
}
