package dev.bulkhead.router;

/** One model's state as the watchdog sees it. */
public enum HealthStatus {
    /** The engine loop is alive but no readiness probe has passed yet. */
    LIVE,
    /** Alive, the last readiness probe passed within its deadline, and the breaker lets traffic through. */
    READY,
    /** Alive but failing readiness, or its breaker is open: its traffic goes to fallbacks. */
    DEGRADED,
    /** No engine: loading failed, or restarts are exhausted (the watchdog still probes it slowly). */
    DEAD,
    /** The watchdog is replacing its engine. */
    RESTARTING
}
