package dev.bulkhead.server.http;

import io.helidon.common.buffers.DataReader;
import io.helidon.common.buffers.DataWriter;
import io.helidon.common.socket.HelidonSocket;
import io.helidon.common.socket.NioSocket;
import io.helidon.common.socket.PeerInfo;
import io.helidon.common.socket.SocketWriter;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.ListenerContext;
import io.helidon.webserver.Router;
import io.helidon.webserver.spi.ServerConnection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.SocketChannel;
import java.util.HexFormat;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One accepted connection, served by Helidon's HTTP/1 connection on the connection's own virtual thread; what
 * Helidon's (package-private) {@code ConnectionHandler} does for its own listener, with the socket read and written
 * through a {@link GuardedReader} and a {@link GuardedWriter} so the {@link ConnectionGuard} can time it out.
 *
 * <p>Client resets, timeouts and closes end here at DEBUG, one line each: they are routine for a public server.
 */
final class GuardedConnection implements ConnectionContext, Runnable {

    /** The connection the current thread serves, for the routing filter ({@link RequestEndFilter}). */
    static final ScopedValue<GuardedConnection> CURRENT = ScopedValue.newInstance();

    private static final Logger LOG = LoggerFactory.getLogger(GuardedConnection.class);

    /** Longest a closing connection waits for the client to stop sending. */
    private static final int LINGER_MILLIS = 2_000;
    /** Most bytes read and dropped while it waits. */
    private static final int LINGER_BYTES = 1 << 20;

    private final HttpListener listener;
    private final SocketChannel channel;
    private final boolean opsOnly;
    private final ConnectionGuard guard;
    private final Exchange exchange = new Exchange();
    private final RequestHeadScanner scanner;
    private final String channelId;
    private final String peer;
    private HelidonSocket socket;
    private DataReader reader;
    private DataWriter writer;

    GuardedConnection(HttpListener listener, SocketChannel channel, boolean opsOnly, ConnectionGuard guard,
                      RequestHeadScanner scanner) {
        this.listener = listener;
        this.channel = channel;
        this.opsOnly = opsOnly;
        this.guard = guard;
        this.scanner = scanner;
        this.channelId = "0x" + HexFormat.of().toHexDigits(System.identityHashCode(channel));
        this.peer = remoteOf(channel);
    }

    @Override
    public void run() {
        try {
            socket = NioSocket.server(channel, channelId, listener.socketId());
            reader = DataReader.create(new GuardedReader(socket, guard, exchange, scanner));
            writer = new GuardedWriter(SocketWriter.create(socket), guard, exchange);
            ServerConnection connection = listener.http1().connection(this);
            ScopedValue.where(CURRENT, this).call(() -> {
                connection.handle(listener.requestLimit());
                return null;
            });
        } catch (CloseConnectionException | UncheckedIOException e) {
            // NOTE: ServerConnectionException (a reset, or a limit closing the socket) is a CloseConnectionException.
            LOG.debug("connection {} from {} closed: {}", channelId, peer, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.warn("connection {} from {} failed", channelId, peer, e);
        } finally {
            lingerThenClose();
            listener.closed(this);
        }
    }

    /**
     * Closes the socket the way HTTP servers must when a client may still be sending (a body refused with 413
     * before it was read, a request that failed mid-body): our side is shut for writing first, so the client reads
     * the answer and then end of stream, and what it still sends is read and dropped for a moment. NOTE: closing a
     * socket with unread bytes in its receive buffer sends a reset, which can reach the client before it has read
     * the answer already sent (it then sees "no response" instead of the 413). A client that closed first, or a
     * connection the guard already closed, costs nothing here.
     */
    private void lingerThenClose() {
        try {
            if (channel.isOpen() && channel.isConnected()) {
                java.net.Socket s = channel.socket();
                s.shutdownOutput();
                s.setSoTimeout(LINGER_MILLIS);
                java.io.InputStream in = s.getInputStream();
                byte[] sink = new byte[16 * 1024];
                long until = System.nanoTime() + LINGER_MILLIS * 1_000_000L;
                int total = 0;
                while (total < LINGER_BYTES && System.nanoTime() - until < 0) {
                    int n = in.read(sink);
                    if (n < 0) {
                        break;
                    }
                    total += n;
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.trace("connection {}: linger ended: {}", channelId, e.toString());
        } finally {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.debug("connection {}: close failed: {}", channelId, e.toString());
            }
        }
    }

    /**
     * The routing filter saw the request through: what is read next starts the next request. A request that
     * failed, or whose body was not read to its end, closes the connection after its answer rather than skip the
     * rest of a body that could be anything.
     */
    void requestHandled(boolean completed, boolean bodyConsumed) {
        if (!completed || !bodyConsumed) {
            exchange.closeAfterResponse = true;
        }
        guard.requestEnded(System.nanoTime());
        scanner.rearm();
    }

    /** Helidon parsed a request line: from here on, what is written answers it. */
    void requestStarted(boolean head) {
        exchange.requestStarted(head, scanner.http10());
    }

    /** Helidon parsed a request's headers: the rest is body, and is not scanned. */
    void headReceived() {
        scanner.finish();
        guard.headReceived(System.nanoTime());
    }

    ConnectionGuard guard() {
        return guard;
    }

    Exchange exchange() {
        return exchange;
    }

    /** True on a reserve slot, which serves only the ops endpoints. */
    boolean opsOnly() {
        return opsOnly;
    }

    private static String remoteOf(SocketChannel channel) {
        try {
            return String.valueOf(channel.getRemoteAddress());
        } catch (IOException e) {
            return "?";
        }
    }

    @Override
    public ListenerContext listenerContext() {
        return listener;
    }

    @Override
    public ExecutorService executor() {
        return listener.executor();
    }

    @Override
    public DataWriter dataWriter() {
        return writer;
    }

    @Override
    public DataReader dataReader() {
        return reader;
    }

    @Override
    public Router router() {
        return listener.router();
    }

    @Override
    public HelidonSocket serverSocket() {
        return socket;
    }

    @Override
    public PeerInfo remotePeer() {
        return socket.remotePeer();
    }

    @Override
    public PeerInfo localPeer() {
        return socket.localPeer();
    }

    @Override
    public boolean isSecure() {
        return false;
    }

    @Override
    public String socketId() {
        return socket.socketId();
    }

    @Override
    public String childSocketId() {
        return socket.childSocketId();
    }
}
