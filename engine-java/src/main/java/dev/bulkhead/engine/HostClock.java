package dev.bulkhead.engine;

/**
 * Splits each engine-loop iteration into the time the loop thread spent waiting for the runner (the forward pass
 * on the CPU, the device's step on CUDA) and its own host work, and, of the latter, the part spent while no
 * launched step was left on the device: the host time a device would sit idle through ("exposed"). Synchronous
 * steps expose all their host work; with asynchronous scheduling the next step is queued before the previous one's
 * ids are awaited, so only drains expose any.
 */
final class HostClock {

    private long start;
    private long waited;
    private long exposed;
    private long host;
    private long idleFrom = -1; // when the device last ran out of launched work in this iteration; -1 while busy

    /** Starts an iteration; {@code devicePending} when a launched step is still on the device. */
    void start(boolean devicePending) {
        start = System.nanoTime();
        waited = 0;
        exposed = 0;
        idleFrom = devicePending ? -1 : start;
    }

    /** The loop is about to queue a step: the device has work from here. */
    void launching() {
        if (idleFrom >= 0) {
            exposed += System.nanoTime() - idleFrom;
            idleFrom = -1;
        }
    }

    /** Marks the start of a wait for the runner; pass the result to {@link #waited}. */
    long waiting() {
        return System.nanoTime();
    }

    /** A wait begun at {@code since} ended; {@code devicePending} when a launched step is still on the device. */
    void waited(long since, boolean devicePending) {
        long now = System.nanoTime();
        waited += now - since;
        if (!devicePending && idleFrom < 0) {
            idleFrom = now;
        }
    }

    /** Ends the iteration; {@link #hostNanos()} and {@link #exposedNanos()} then describe it. */
    void end() {
        long now = System.nanoTime();
        if (idleFrom >= 0) {
            exposed += now - idleFrom;
            idleFrom = -1;
        }
        host = now - start - waited;
    }

    /** Host time of the last ended iteration: its length less its waits for the runner. */
    long hostNanos() {
        return host;
    }

    /** Of {@link #hostNanos()}, the time no launched step was left on the device. */
    long exposedNanos() {
        return exposed;
    }
}
