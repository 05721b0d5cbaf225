package dev.bulkhead.router.ipc;

/**
 * The frames of the router–worker protocol (see {@code docs/process-isolation.md}): codes below 0x80 go from the
 * router to a worker, codes from 0x80 up from a worker to the router.
 */
public enum FrameType {
    /** Router → worker: queue a request; answered by ACCEPTED or ERROR. */
    SUBMIT(0x01),
    /** Router → worker: abort a request. */
    CANCEL(0x02),
    /** Router → worker: the request's subscriber may take this many more deltas. */
    CREDIT(0x03),
    /** Router → worker: scrape the worker's metrics. */
    METRICS_REQ(0x04),
    /** Router → worker: turn a drill fault on or off. */
    FAULT(0x05),
    /** Router → worker: drain, then exit. */
    SHUTDOWN(0x06),
    /** Router → worker: read the engine's meters, answered by STATS (what a user's registry shows). */
    STATS_REQ(0x07),
    /** Worker → router: protocol version and pid, before loading. */
    HELLO(0x81),
    /** Worker → router: the engine serves. */
    READY(0x82),
    /** Worker → router: the model did not load. */
    LOAD_FAILED(0x83),
    /** Worker → router: a SUBMIT was validated and queued. */
    ACCEPTED(0x84),
    /** Worker → router: one streamed token. */
    DELTA(0x85),
    /** Worker → router: a request finished, with its whole output. */
    DONE(0x86),
    /** Worker → router: a request failed. */
    ERROR(0x87),
    /** Worker → router: liveness, load and memory, from the worker's own thread. */
    HEARTBEAT(0x88),
    /** Worker → router: the answer to METRICS_REQ. */
    METRICS(0x89),
    /** Worker → router: the answer to STATS_REQ, a {@link MeterSnapshot}. */
    STATS(0x8A);

    /** Protocol version carried in HELLO; a worker of another version is refused. */
    public static final int VERSION = 2;

    private static final FrameType[] BY_CODE = new FrameType[256];

    static {
        for (FrameType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final int code;

    FrameType(int code) {
        this.code = code;
    }

    /** The byte on the wire. */
    public int code() {
        return code;
    }

    /** The type of wire byte {@code b}. */
    public static FrameType of(int b) {
        FrameType t = BY_CODE[b & 0xff];
        if (t == null) {
            throw new ProtocolException("unknown frame type 0x" + Integer.toHexString(b & 0xff));
        }
        return t;
    }
}
