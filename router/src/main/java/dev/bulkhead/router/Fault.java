package dev.bulkhead.router;

/** Fault classes for drills (see {@link FaultInjector}). */
public enum Fault {
    /** Every step throws {@link OutOfMemoryError}, and so does building the model's engine (re)load. */
    OUT_OF_MEMORY,
    /** A step blocks until the fault is cleared (or {@link FaultSpec#hangMillis()} passes). */
    HUNG_STEP,
    /** Every forward pass throws. */
    STEP_EXCEPTION,
    /** Readiness probes fail although the engine works. */
    READINESS_FAILURE,
    /** Every step takes {@link FaultSpec#slowStepMillis()} longer. */
    SLOW_STEPS,
    /** Router-wide: every routing-table update is corrupted before validation (so it must be rejected). */
    CORRUPT_ROUTING_UPDATE
}
