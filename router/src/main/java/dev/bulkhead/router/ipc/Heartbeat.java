package dev.bulkhead.router.ipc;

/**
 * A worker's periodic report, sent from its own thread.
 *
 * @param seq            increases by one per heartbeat
 * @param loopAgeNanos   time since the engine loop's last iteration (-1 while the model loads)
 * @param inFlight       requests the engine holds
 * @param kvBlocksInUse  KV blocks held by requests
 * @param heapUsedBytes  the worker's Java heap in use
 * @param heapMaxBytes   its limit (-Xmx)
 * @param failure        why the engine stopped for good (a lost backend), or null
 */
public record Heartbeat(long seq, long loopAgeNanos, int inFlight, int kvBlocksInUse, long heapUsedBytes,
                        long heapMaxBytes, String failure) {

    public void write(WireOut out) {
        out.i64(seq).i64(loopAgeNanos).i32(inFlight).i32(kvBlocksInUse).i64(heapUsedBytes).i64(heapMaxBytes)
                .str(failure);
    }

    public static Heartbeat read(WireIn in) {
        return new Heartbeat(in.i64(), in.i64(), in.i32(), in.i32(), in.i64(), in.i64(), in.str());
    }
}
