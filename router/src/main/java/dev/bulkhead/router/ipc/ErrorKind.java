package dev.bulkhead.router.ipc;

/** Why a worker failed a request (the {@code kind} byte of an ERROR frame). */
public enum ErrorKind {
    /** The request can never be served as given; the frame names the field. */
    INVALID_REQUEST,
    /** A forward pass or sampling step failed. */
    ENGINE_STEP,
    /** A step ran out of memory (an injected drill; a real one ends the worker). */
    OUT_OF_MEMORY,
    /** The engine is closed or lost its backend. */
    UNAVAILABLE;

    public int code() {
        return ordinal() + 1;
    }

    public static ErrorKind of(int code) {
        if (code < 1 || code > values().length) {
            throw new ProtocolException("unknown error kind " + code);
        }
        return values()[code - 1];
    }
}
