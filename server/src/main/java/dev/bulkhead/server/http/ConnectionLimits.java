package dev.bulkhead.server.http;

import java.time.Duration;
import java.util.Objects;

/**
 * Connection-level limits of the HTTP listener: how many connections it holds and how long a client may take
 * at each stage before its connection is closed. They protect the process (file descriptors, memory, virtual
 * threads) from clients that open connections and then send, or read, too slowly or not at all.
 *
 * @param maxConnections     connections served at once; past it (and past {@link #OPS_RESERVE} more that may
 *                           only ask {@code /health}, {@code /ready} or {@code /metrics}) new ones get a 503 and
 *                           are closed. 0 picks {@link #autoMaxConnections(long, long) a value under the fd limit}
 * @param headerTimeout      time to send the request line and headers: from accept for a connection's first
 *                           request, from the first byte for later ones (nginx's {@code client_header_timeout})
 * @param bodyTimeout        time to send the whole request body, from the end of its headers
 * @param idleTimeout        time a keep-alive connection may wait for its next request
 * @param streamStallTimeout time one write may stay blocked because the client reads nothing (its TCP window is
 *                           full); then the connection is dropped and its request aborted
 * @param sendBufferBytes    {@code SO_SNDBUF} of accepted connections, 0 for the kernel's (autotuned) size. A
 *                           write blocks, and the stall timer runs, only once this buffer and the client's receive
 *                           buffer are full; a small value notices a stalled reader sooner
 */
public record ConnectionLimits(int maxConnections, Duration headerTimeout, Duration bodyTimeout,
                               Duration idleTimeout, Duration streamStallTimeout, int sendBufferBytes) {

    /** Extra connections past {@code maxConnections} that serve only the ops endpoints, so probes get through. */
    public static final int OPS_RESERVE = 8;
    /** The automatic cap never goes above this (each open connection holds ~20 KiB of buffers and a thread). */
    public static final int AUTO_MAX_CONNECTIONS = 1024;
    /** Largest request head (header lines after the request line); past it the answer is 431. */
    public static final int MAX_HEADER_BYTES = 16 * 1024;

    public ConnectionLimits {
        if (maxConnections < 0) {
            throw new IllegalArgumentException("maxConnections must be >= 0 (0 = automatic), got " + maxConnections);
        }
        positive("headerTimeout", headerTimeout);
        positive("bodyTimeout", bodyTimeout);
        positive("idleTimeout", idleTimeout);
        positive("streamStallTimeout", streamStallTimeout);
        if (sendBufferBytes < 0) {
            throw new IllegalArgumentException("sendBufferBytes must be >= 0 (0 = kernel default), got "
                    + sendBufferBytes);
        }
    }

    /**
     * Automatic cap, 20 s to send a head, 60 s for a body, 75 s idle keep-alive (above the 60 s idle timeout of
     * common load balancers, so they close first), 30 s for a stalled stream, the kernel's send buffer.
     */
    public static ConnectionLimits defaults() {
        return new ConnectionLimits(0, Duration.ofSeconds(20), Duration.ofSeconds(60), Duration.ofSeconds(75),
                Duration.ofSeconds(30), 0);
    }

    /**
     * The cap used when {@code maxConnections} is 0, for a process allowed {@code fdLimit} open files of which
     * {@code openFds} are open now (jars, model files, logs): what is left after those, an eighth of the limit (at
     * least 32) for what the process opens later, and the ops reserve; never more than
     * {@value #AUTO_MAX_CONNECTIONS}, never less than 1.
     */
    public static int autoMaxConnections(long fdLimit, long openFds) {
        long later = Math.max(32, fdLimit / 8);
        long cap = Math.min(AUTO_MAX_CONNECTIONS, fdLimit - openFds - later - OPS_RESERVE);
        return (int) Math.max(1, cap);
    }

    /** {@code maxConnections}, or the automatic cap when it is 0. */
    public int resolvedMaxConnections(long fdLimit, long openFds) {
        return maxConnections > 0 ? maxConnections : autoMaxConnections(fdLimit, openFds);
    }

    public ConnectionLimits withMaxConnections(int n) {
        return new ConnectionLimits(n, headerTimeout, bodyTimeout, idleTimeout, streamStallTimeout, sendBufferBytes);
    }

    public ConnectionLimits withHeaderTimeout(Duration d) {
        return new ConnectionLimits(maxConnections, d, bodyTimeout, idleTimeout, streamStallTimeout, sendBufferBytes);
    }

    public ConnectionLimits withBodyTimeout(Duration d) {
        return new ConnectionLimits(maxConnections, headerTimeout, d, idleTimeout, streamStallTimeout, sendBufferBytes);
    }

    public ConnectionLimits withIdleTimeout(Duration d) {
        return new ConnectionLimits(maxConnections, headerTimeout, bodyTimeout, d, streamStallTimeout,
                sendBufferBytes);
    }

    public ConnectionLimits withStreamStallTimeout(Duration d) {
        return new ConnectionLimits(maxConnections, headerTimeout, bodyTimeout, idleTimeout, d, sendBufferBytes);
    }

    public ConnectionLimits withSendBufferBytes(int bytes) {
        return new ConnectionLimits(maxConnections, headerTimeout, bodyTimeout, idleTimeout, streamStallTimeout,
                bytes);
    }

    private static void positive(String name, Duration d) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, got " + d);
        }
    }
}
