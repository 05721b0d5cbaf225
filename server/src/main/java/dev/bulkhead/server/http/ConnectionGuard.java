package dev.bulkhead.server.http;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.time.Duration;

/**
 * The deadlines of one connection. Its reader and writer say when they block on the socket and the request's
 * progress moves it through {@link Phase}s; the {@link ConnectionSweeper} (another thread) asks {@link #overdue}
 * and closes the socket of a connection blocked past its deadline, which wakes the blocked read or write with an
 * exception. A read or write that is not blocked has no deadline: a request computing for minutes is not idle.
 */
final class ConnectionGuard {

    /** Where the connection is in its current request. */
    enum Phase {
        /** Waiting for a request's first byte: a new connection, or keep-alive between requests. */
        IDLE,
        /** Receiving the request line and headers. */
        HEAD,
        /** The head is in: receiving the body, handling, answering. */
        BODY
    }

    /** Why a connection was closed by a limit, with its metrics tag. */
    enum Reason {
        HEADER_TIMEOUT("header_timeout", "request head not received in time"),
        BODY_TIMEOUT("body_timeout", "request body not received in time"),
        IDLE_TIMEOUT("idle_timeout", "keep-alive connection idle"),
        STREAM_STALLED("stream_stalled", "the client read nothing; response write stalled"),
        SHUTDOWN("shutdown", "server stopping");

        final String tag;
        final String message;

        Reason(String tag, String message) {
            this.tag = tag;
            this.message = message;
        }
    }

    /** NOTE: a connection on a reserve slot serves one quick probe; it gets at most this long for its head. */
    static final Duration OPS_HEADER_TIMEOUT = Duration.ofSeconds(2);
    private static final long NOT_BLOCKED = Long.MIN_VALUE;

    private final SocketChannel channel;
    private final long headerNanos;
    private final long bodyNanos;
    private final long idleNanos;
    private final long stallNanos;
    private final long acceptedAt;

    private volatile Phase phase = Phase.IDLE;
    private volatile long phaseSince;
    private volatile boolean firstRequest = true;
    private volatile long readingSince = NOT_BLOCKED;
    private volatile long writingSince = NOT_BLOCKED;
    private volatile Reason closedFor;
    private volatile boolean stopping;

    ConnectionGuard(SocketChannel channel, ConnectionLimits limits, boolean opsOnly, long now) {
        this.channel = channel;
        Duration header = opsOnly && OPS_HEADER_TIMEOUT.compareTo(limits.headerTimeout()) < 0 ? OPS_HEADER_TIMEOUT
                : limits.headerTimeout();
        this.headerNanos = header.toNanos();
        this.bodyNanos = limits.bodyTimeout().toNanos();
        this.idleNanos = limits.idleTimeout().toNanos();
        this.stallNanos = limits.streamStallTimeout().toNanos();
        this.acceptedAt = now;
        this.phaseSince = now;
    }

    Phase phase() {
        return phase;
    }

    /** The first bytes of a request arrived. */
    void headStarted(long now) {
        if (phase == Phase.IDLE) {
            // NOTE: a connection's first request is timed from accept, so a silent connection cannot idle forever.
            phaseSince = firstRequest ? acceptedAt : now;
            phase = Phase.HEAD;
        }
    }

    /** Helidon parsed the request's headers. */
    void headReceived(long now) {
        phaseSince = now;
        phase = Phase.BODY;
    }

    /** The request was handled; what is read next belongs to the next request. */
    void requestEnded(long now) {
        firstRequest = false;
        phaseSince = now;
        phase = Phase.IDLE;
    }

    void readBlocked(long now) {
        readingSince = now;
    }

    void readDone() {
        readingSince = NOT_BLOCKED;
    }

    void writeBlocked(long now) {
        writingSince = now;
    }

    void writeDone() {
        writingSince = NOT_BLOCKED;
    }

    /** The limit a blocked read or write of this connection has overrun at {@code now}, or null. */
    Reason overdue(long now) {
        long writing = writingSince;
        if (writing != NOT_BLOCKED && now - writing > stallNanos) {
            return Reason.STREAM_STALLED;
        }
        if (readingSince == NOT_BLOCKED) {
            return null;
        }
        long since = phaseSince;
        return switch (phase) {
            case IDLE -> firstRequest ? (now - acceptedAt > headerNanos ? Reason.HEADER_TIMEOUT : null)
                    : (now - since > idleNanos ? Reason.IDLE_TIMEOUT : null);
            case HEAD -> now - since > headerNanos ? Reason.HEADER_TIMEOUT : null;
            case BODY -> now - since > bodyNanos ? Reason.BODY_TIMEOUT : null;
        };
    }

    /** True between requests (and before the first). */
    boolean idle() {
        return phase == Phase.IDLE;
    }

    /** True while blocked waiting for a next request: closing now cuts nothing. */
    boolean waitingForRequest() {
        return phase == Phase.IDLE && readingSince != NOT_BLOCKED;
    }

    /** The server is stopping: the connection ends after the request under way. */
    void stopping() {
        stopping = true;
    }

    boolean isStopping() {
        return stopping;
    }

    /** Closes the socket for {@code reason}; the first reason given sticks. Returns false if already closed so. */
    boolean close(Reason reason) {
        synchronized (this) {
            if (closedFor != null) {
                return false;
            }
            closedFor = reason;
        }
        try {
            channel.close();
        } catch (IOException e) {
            // NOTE: nothing left to do; the blocked call fails either way.
        }
        return true;
    }

    /** The limit this connection was closed for, or null. */
    Reason closedFor() {
        return closedFor;
    }
}
