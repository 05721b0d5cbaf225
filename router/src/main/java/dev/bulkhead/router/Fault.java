package dev.bulkhead.router;

/**
 * Fault classes for drills (see {@link FaultInjector}). The first ones stay on until cleared; the process-level
 * ones ({@link #isOneShot()}) fire once, in the engine (or worker process) serving at that moment.
 */
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
    CORRUPT_ROUTING_UPDATE,
    /** One-shot: the next forward pass calls {@code strlen(NULL)} through FFM, a segfault in native code. */
    NATIVE_CRASH,
    /** One-shot: the next forward pass keeps allocating until the Java heap is exhausted (a real OOM). */
    HEAP_EXHAUSTION,
    /**
     * One-shot: the next forward pass hangs until the fault is cleared; a worker process also stops its heartbeats
     * and stops reading its socket (frozen, as in a long GC pause or SIGSTOP).
     */
    WORKER_HANG,
    /**
     * One-shot: a worker process floods its socket with frames as fast as it can; in-process, where there is no
     * socket, a runaway thread burns a core until the fault is cleared.
     */
    SOCKET_FLOOD,
    /**
     * One-shot: the next {@code bk_silu_mul} launch faults with a sticky {@code CUDA_ERROR_ILLEGAL_ADDRESS}
     * (only on {@code --device cuda-emulator}, whose fault injection does it).
     */
    CUDA_ILLEGAL_ADDRESS;

    /** Whether it fires once rather than staying on. */
    public boolean isOneShot() {
        return ordinal() >= NATIVE_CRASH.ordinal();
    }
}
