package dev.bulkhead.server.http;

import io.helidon.common.socket.HelidonSocket;
import io.helidon.webserver.ServerConnectionException;
import java.io.UncheckedIOException;
import java.util.function.Supplier;

/**
 * The byte source of a connection's Helidon {@code DataReader}: reads the socket, telling the
 * {@link ConnectionGuard} while it blocks (so the sweeper can time the read out), passes request heads through the
 * {@link RequestHeadScanner}, and ends the connection where the next request would start once the client asked to
 * close (Helidon sends {@code Connection: close} but would otherwise wait for that next request) or the server is
 * stopping.
 */
final class GuardedReader implements Supplier<byte[]> {

    private final HelidonSocket socket;
    private final ConnectionGuard guard;
    private final Exchange exchange;
    private final RequestHeadScanner scanner;

    GuardedReader(HelidonSocket socket, ConnectionGuard guard, Exchange exchange, RequestHeadScanner scanner) {
        this.socket = socket;
        this.guard = guard;
        this.exchange = exchange;
        this.scanner = scanner;
    }

    /** The next bytes for Helidon, or null for end of stream (which Helidon answers by closing the connection). */
    @Override
    public byte[] get() {
        while (true) {
            if (guard.idle() && (exchange.closeAfterResponse || guard.isStopping())) {
                return null;
            }
            byte[] in = read();
            if (in == null) {
                return null;
            }
            if (!scanner.active()) {
                return in;
            }
            guard.headStarted(System.nanoTime());
            byte[] out = scanner.feed(in);
            if (out.length > 0) {
                return out;
            }
        }
    }

    private byte[] read() {
        guard.readBlocked(System.nanoTime());
        try {
            return socket.get();
        } catch (UncheckedIOException e) {
            ConnectionGuard.Reason reason = guard.closedFor();
            // NOTE: the same exception Helidon's own reader throws for a failed socket, so every layer above treats
            // a timeout like the client going away.
            throw new ServerConnectionException(reason != null ? reason.message : "Failed to get data from socket", e);
        } finally {
            guard.readDone();
        }
    }
}
