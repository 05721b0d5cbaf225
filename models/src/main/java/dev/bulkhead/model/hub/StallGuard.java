package dev.bulkhead.model.hub;

import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;

/**
 * A read timeout for a response body: the JDK's HTTP client times out only until the headers arrive, so a server
 * that stops sending mid-file would hang a download forever. A virtual thread closes the body when no byte has
 * come for {@code timeout}; the blocked read then fails and the download resumes from what it has.
 */
final class StallGuard implements AutoCloseable {

    private final Duration timeout;
    private final Closeable body;
    private final Thread watcher;
    private volatile long lastProgressNanos = System.nanoTime();
    private volatile boolean fired;
    private volatile boolean done;

    StallGuard(Closeable body, Duration timeout) {
        this.body = body;
        this.timeout = timeout;
        this.watcher = Thread.ofVirtual().name("hub-read-timeout").start(this::watch);
    }

    /** Bytes arrived: the clock starts over. */
    void progressed() {
        lastProgressNanos = System.nanoTime();
    }

    /** Whether the body was closed for want of bytes. */
    boolean fired() {
        return fired;
    }

    /** The failure to report when a read failed because this guard closed the body. */
    IOException timeoutException(IOException cause) {
        return new IOException("no data for " + timeout.toMillis() / 1000.0 + " s (read timeout)", cause);
    }

    private void watch() {
        long limit = timeout.toNanos();
        long tick = Math.max(1, Math.min(limit / 4, 1_000_000_000L) / 1_000_000);
        try {
            while (!done) {
                Thread.sleep(tick);
                if (!done && System.nanoTime() - lastProgressNanos > limit) {
                    fired = true;
                    body.close();
                    return;
                }
            }
        } catch (InterruptedException | IOException e) {
            // NOTE: interrupted means the transfer ended; a failing close leaves the read to fail on its own.
        }
    }

    @Override
    public void close() {
        done = true;
        watcher.interrupt();
    }
}
