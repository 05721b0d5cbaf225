package dev.bulkhead.server.http;

import java.time.Duration;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One daemon thread that, a few times a second, closes every connection blocked in a read or write past its
 * deadline ({@link ConnectionGuard#overdue}). Closing the socket from here wakes the blocked call with an exception
 * on the connection's own thread, which then ends the connection (and, for a stalled stream, aborts its request).
 *
 * <p>NOTE: a sweep instead of a timer per read, since reads start and end far more often than anything times out;
 * the cost is a walk over the open connections (a thousand at most by default) per tick, and a deadline that fires
 * up to one tick late.
 */
final class ConnectionSweeper implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ConnectionSweeper.class);

    private final Thread thread;
    private volatile boolean running = true;

    /**
     * @param tick        how often to look
     * @param connections the open connections, each time
     * @param onClose     told of each connection closed, and why
     */
    ConnectionSweeper(Duration tick, Supplier<Iterable<GuardedConnection>> connections,
                      BiConsumer<GuardedConnection, ConnectionGuard.Reason> onClose) {
        long tickMillis = Math.max(1, tick.toMillis());
        this.thread = Thread.ofPlatform().daemon().name("bulkhead-http-sweeper").unstarted(() -> {
            while (running) {
                try {
                    Thread.sleep(tickMillis);
                } catch (InterruptedException e) {
                    return;
                }
                try {
                    sweep(connections.get(), onClose);
                } catch (RuntimeException e) {
                    LOG.error("connection sweep failed; trying again next tick", e);
                }
            }
        });
        thread.start();
    }

    private static void sweep(Iterable<GuardedConnection> connections,
                              BiConsumer<GuardedConnection, ConnectionGuard.Reason> onClose) {
        long now = System.nanoTime();
        for (GuardedConnection c : connections) {
            ConnectionGuard.Reason reason = c.guard().overdue(now);
            if (reason != null && c.guard().close(reason)) {
                onClose.accept(c, reason);
            }
        }
    }

    /** A tick a tenth of the shortest timeout, between 50 ms and 1 s. */
    static Duration tickFor(ConnectionLimits limits) {
        Duration shortest = limits.headerTimeout();
        for (Duration d : new Duration[] {limits.bodyTimeout(), limits.idleTimeout(), limits.streamStallTimeout(),
                ConnectionGuard.OPS_HEADER_TIMEOUT}) {
            shortest = d.compareTo(shortest) < 0 ? d : shortest;
        }
        long millis = Math.clamp(shortest.toMillis() / 10, 50, 1_000);
        return Duration.ofMillis(millis);
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
