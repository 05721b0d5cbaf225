package dev.bulkhead.server.http;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts connections until the server socket is closed, and survives a failed accept: out of file descriptors
 * (EMFILE, ENFILE) or anything else, it backs off (50 ms, doubling to 1 s) and tries again, as Tomcat's and Netty's
 * acceptors do. The connection that could not be accepted waits in the kernel's backlog meanwhile. One WARN starts a
 * burst of failures and one more ends it, however long it lasts, so a flood cannot flood the log too.
 */
final class AcceptLoop implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(AcceptLoop.class);
    private static final long FIRST_BACKOFF_MILLIS = 50;
    private static final long MAX_BACKOFF_MILLIS = 1_000;

    private final ServerSocketChannel server;
    private final Consumer<SocketChannel> admit;
    private final Runnable onFailure;
    private final String context;

    /**
     * @param server    bound, blocking
     * @param admit     takes each accepted connection (and must not throw)
     * @param onFailure told of each failed accept (a metric)
     * @param context   what to add to the WARN line (the open-file limit, the connection cap)
     */
    AcceptLoop(ServerSocketChannel server, Consumer<SocketChannel> admit, Runnable onFailure, String context) {
        this.server = server;
        this.admit = admit;
        this.onFailure = onFailure;
        this.context = context;
    }

    @Override
    public void run() {
        long backoff = 0;
        int failures = 0;
        long burstStart = 0;
        while (server.isOpen()) {
            SocketChannel channel;
            try {
                channel = server.accept();
            } catch (ClosedChannelException e) {
                return; // NOTE: stop() closed the server socket (AsynchronousCloseException is one too).
            } catch (IOException | RuntimeException e) {
                onFailure.run();
                if (failures++ == 0) {
                    burstStart = System.nanoTime();
                    LOG.warn("accepting a connection failed ({}); backing off and retrying, silently until it works "
                            + "again ({})", e.getMessage(), context);
                }
                backoff = backoff == 0 ? FIRST_BACKOFF_MILLIS : Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    return;
                }
                continue;
            }
            if (failures > 0) {
                LOG.warn("accepting connections again after {} failed accepts over {} ms", failures,
                        (System.nanoTime() - burstStart) / 1_000_000);
                failures = 0;
                backoff = 0;
            }
            admit.accept(channel);
        }
    }
}
