package dev.bulkhead.server.http;

import com.sun.management.UnixOperatingSystemMXBean;
import io.helidon.common.concurrency.limits.FixedLimit;
import io.helidon.common.concurrency.limits.Limit;
import io.helidon.common.context.Context;
import io.helidon.http.DirectHandler;
import io.helidon.http.encoding.ContentEncodingContext;
import io.helidon.http.media.MediaContext;
import io.helidon.webserver.ErrorHandling;
import io.helidon.webserver.ListenerConfig;
import io.helidon.webserver.ListenerContext;
import io.helidon.webserver.Router;
import io.helidon.webserver.http.DirectHandlers;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http1.Http1Config;
import io.helidon.webserver.http1.Http1ConnectionSelector;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.Channel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's TCP listener: our own accept loop and connection bookkeeping around Helidon's HTTP/1 protocol
 * handling and routing, in place of the listener of Helidon's {@code WebServer}.
 *
 * <p>NOTE: why not Helidon's listener. Helidon 4.5's accept loop treats a failed accept as the end of the listener
 * ({@code ServerListener.listen}: "if accept fails itself, we consider it end of story"): one EMFILE under a flood
 * of connections and the server never accepts again while the JVM lives on. There is no hook around accept, and a
 * {@code WebServer} cannot be restarted (a new one would also drop every open stream). Helidon has no read or write
 * timeouts either (its idle check only interrupts a connection waiting for a request line). So this class accepts
 * and times connections itself, and hands each to Helidon's public pieces, as Helidon's own listener does:
 * {@link Http1ConnectionSelector} (request parsing, keep-alive, 100-continue, body framing, responses), the
 * {@link Router} over our {@link HttpRouting} (filters, handlers, SSE), {@code NioSocket}, {@code DataReader},
 * {@code SocketWriter} and {@link DirectHandlers}. What it adds: an {@link AcceptLoop} that backs off on failure; a
 * connection cap with a small reserve for probes, past which connections get a 503 and are closed; the deadlines of
 * {@link ConnectionGuard}; HTTP/1.0, HEAD and 431 ({@link RequestHeadScanner}, {@link ExchangeListener}); and closing
 * after {@code Connection: close}.
 */
final class HttpListener implements ListenerContext, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HttpListener.class);
    private static final int BACKLOG = 1024;
    /** How long stop() lets requests under way finish, as Helidon's listener did. */
    private static final long GRACE_MILLIS = 500;

    private final ServerSocketChannel server;
    private final ConnectionLimits limits;
    private final int maxConnections;
    private final ListenerConfig config;
    private final Http1Config http1Config;
    private final Http1ConnectionSelector http1;
    private final Router router;
    private final Limit requestLimit = FixedLimit.create();
    private final Context context = Context.builder().id("bulkhead-http").build();
    private final MediaContext media = MediaContext.create();
    private final ContentEncodingContext encoding = ContentEncodingContext.create();
    private final DirectHandlers directHandlers;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Set<GuardedConnection> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger slots = new AtomicInteger();
    private final byte[] refusal;
    private final Thread.Builder threads = Thread.ofVirtual().name("bulkhead-http-", 0);
    private final MeterRegistry registry;
    private final Counter acceptFailures;
    private final Thread acceptor;
    private final ConnectionSweeper sweeper;
    private volatile boolean running = true;

    private HttpListener(ServerSocketChannel server, ServerConfig serverConfig, int maxConnections, long fdLimit,
                         Router router, ErrorResponses errors, MeterRegistry registry) {
        this.server = server;
        this.limits = serverConfig.connections();
        this.maxConnections = maxConnections;
        this.router = router;
        this.registry = registry;
        this.config = ListenerConfig.builder()
                .host(serverConfig.host())
                .port(port())
                // NOTE: Helidon then passes the messages it marks safe to show to our DirectHandler.
                .errorHandling(ErrorHandling.builder().includeEntity(true).build())
                .protocolsDiscoverServices(false)
                .build();
        this.http1Config = Http1Config.builder()
                // NOTE: above ours, so that RequestHeadScanner's 431 comes first.
                .maxHeadersSize(ConnectionLimits.MAX_HEADER_BYTES + 1024)
                .addReceiveListener(new ExchangeListener.Requests(serverConfig.maxBodyBytes()))
                .addSendListener(new ExchangeListener.Responses())
                .build();
        this.http1 = Http1ConnectionSelector.builder().config(http1Config).build();
        DirectHandler api = new ApiDirectHandler(errors, serverConfig.maxBodyBytes());
        DirectHandlers.Builder handlers = DirectHandlers.builder();
        for (DirectHandler.EventType type : DirectHandler.EventType.values()) {
            handlers.addHandler(type, api);
        }
        this.directHandlers = handlers.build();
        this.refusal = refusal(errors, maxConnections);
        this.requestLimit.init(config.name());
        Gauge.builder("bulkhead.http.connections.open", slots, AtomicInteger::get)
                .description("open HTTP connections").register(registry);
        this.acceptFailures = Counter.builder("bulkhead.http.accept.failures")
                .description("failed accepts (e.g. out of file descriptors), each followed by a back-off")
                .register(registry);
        this.sweeper = new ConnectionSweeper(ConnectionSweeper.tickFor(limits), () -> open,
                (c, reason) -> closedBy(reason.tag));
        this.acceptor = Thread.ofPlatform().name("bulkhead-http-acceptor").daemon().unstarted(
                new AcceptLoop(server, this::admit, acceptFailures::increment,
                        "open-file limit " + fdLimit + ", " + maxConnections + " connections allowed"));
    }

    /**
     * Binds {@code config}'s host and port and starts serving {@code routing}.
     *
     * @throws UncheckedIOException when the address cannot be bound
     */
    static HttpListener start(ServerConfig config, HttpRouting.Builder routing, ErrorResponses errors,
                              MeterRegistry registry) {
        long fdLimit = fdLimit();
        long openFds = openFds();
        ConnectionLimits limits = config.connections();
        int max = limits.resolvedMaxConnections(fdLimit, openFds);
        if (max + ConnectionLimits.OPS_RESERVE > fdLimit - openFds - 32) {
            LOG.warn("{} connections allowed, but the open-file limit is {}: a flood of connections can exhaust file "
                    + "descriptors (accepting then backs off and retries, but model files and logs cannot be "
                    + "opened meanwhile); raise the limit (ulimit -n) or lower --max-connections", max, fdLimit);
        }
        Router router = Router.builder().addRouting(routing).build();
        router.beforeStart();
        ServerSocketChannel server = null;
        HttpListener listener;
        try {
            server = ServerSocketChannel.open();
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            server.bind(new InetSocketAddress(InetAddress.getByName(config.host()), config.port()), BACKLOG);
            listener = new HttpListener(server, config, max, fdLimit, router, errors, registry);
        } catch (IOException | RuntimeException e) {
            if (server != null) {
                closeQuietly(server);
            }
            router.afterStop();
            if (e instanceof IOException io) {
                throw new UncheckedIOException("cannot listen on " + config.host() + ":" + config.port() + ": "
                        + io.getMessage(), io);
            }
            throw (RuntimeException) e;
        }
        listener.acceptor.start();
        LOG.info("accepting up to {} connections (+{} for /health, /ready, /metrics; open-file limit {}, {} open); "
                        + "timeouts: head {}, body {}, idle {}, stalled stream {}", max,
                ConnectionLimits.OPS_RESERVE, fdLimit, openFds, shown(limits.headerTimeout()),
                shown(limits.bodyTimeout()), shown(limits.idleTimeout()), shown(limits.streamStallTimeout()));
        return listener;
    }

    /** The bound port. */
    int port() {
        try {
            return ((InetSocketAddress) server.getLocalAddress()).getPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Takes one accepted connection: serves it, on a reserve slot only the ops endpoints, or refuses it. */
    private void admit(SocketChannel channel) {
        int n = slots.incrementAndGet();
        if (!running || n > maxConnections + ConnectionLimits.OPS_RESERVE) {
            slots.decrementAndGet();
            refuse(channel);
            closedBy("refused");
            return;
        }
        GuardedConnection connection = null;
        try {
            channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            if (limits.sendBufferBytes() > 0) {
                channel.setOption(StandardSocketOptions.SO_SNDBUF, limits.sendBufferBytes());
            }
            boolean opsOnly = n > maxConnections;
            ConnectionGuard guard = new ConnectionGuard(channel, limits, opsOnly, System.nanoTime());
            RequestHeadScanner scanner = new RequestHeadScanner(http1Config.maxPrologueLength(),
                    ConnectionLimits.MAX_HEADER_BYTES, hostHeader(channel.getLocalAddress()));
            connection = new GuardedConnection(this, channel, opsOnly, guard, scanner);
            open.add(connection);
            threads.start(connection);
        } catch (IOException | RuntimeException | OutOfMemoryError e) {
            // NOTE: out of threads or memory is also a reason to turn one connection away, not to stop accepting.
            LOG.warn("could not serve a new connection: {}", e.toString());
            if (connection == null || open.remove(connection)) {
                slots.decrementAndGet();
            }
            closeQuietly(channel);
        }
    }

    /** A {@link GuardedConnection} ended. */
    void closed(GuardedConnection connection) {
        if (open.remove(connection)) {
            slots.decrementAndGet();
        }
    }

    /**
     * Answers 503 without reading the request and closes: the socket is non-blocking, so a client that reads
     * nothing cannot hold the acceptor.
     */
    private void refuse(SocketChannel channel) {
        try {
            channel.configureBlocking(false);
            channel.write(ByteBuffer.wrap(refusal));
            channel.shutdownOutput();
            // NOTE: read what the client already sent, so closing sends FIN rather than a reset that could
            // destroy the 503 before the client reads it.
            channel.read(ByteBuffer.allocate(8192));
        } catch (IOException e) {
            // best effort: the client may be gone already
        } finally {
            closeQuietly(channel);
        }
    }

    private void closedBy(String reason) {
        Counter.builder("bulkhead.http.connections.closed")
                .description("HTTP connections closed by a limit, by reason")
                .tag("reason", reason).register(registry).increment();
    }

    /**
     * Stops accepting, closes idle connections, gives requests under way {@value #GRACE_MILLIS} ms to finish (their
     * connections close after them), then closes the rest.
     */
    @Override
    public void close() {
        if (!running) {
            return;
        }
        running = false;
        closeQuietly(server);
        try {
            acceptor.join(1_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (GuardedConnection c : open) {
            c.guard().stopping();
            if (c.guard().waitingForRequest()) {
                c.guard().close(ConnectionGuard.Reason.SHUTDOWN);
            }
        }
        awaitClosed(GRACE_MILLIS);
        open.forEach(c -> c.guard().close(ConnectionGuard.Reason.SHUTDOWN));
        awaitClosed(GRACE_MILLIS);
        sweeper.close();
        executor.shutdownNow();
        router.afterStop();
    }

    private void awaitClosed(long millis) {
        long until = System.nanoTime() + millis * 1_000_000;
        while (!open.isEmpty() && System.nanoTime() < until) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    String socketId() {
        return "0x" + Integer.toHexString(System.identityHashCode(server));
    }

    Http1ConnectionSelector http1() {
        return http1;
    }

    Limit requestLimit() {
        return requestLimit;
    }

    Router router() {
        return router;
    }

    @Override
    public Context context() {
        return context;
    }

    @Override
    public MediaContext mediaContext() {
        return media;
    }

    @Override
    public ContentEncodingContext contentEncodingContext() {
        return encoding;
    }

    @Override
    public DirectHandlers directHandlers() {
        return directHandlers;
    }

    @Override
    public ListenerConfig config() {
        return config;
    }

    @Override
    public ExecutorService executor() {
        return executor;
    }

    /** The process's open-file limit (the JVM raises the soft limit to the hard one at start); 4096 if unknown. */
    static long fdLimit() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix) {
            long max = unix.getMaxFileDescriptorCount();
            if (max > 0) {
                return max;
            }
        }
        return 4096;
    }

    /** Files open in this process now; 0 if unknown. */
    static long openFds() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix) {
            return Math.max(0, unix.getOpenFileDescriptorCount());
        }
        return 0;
    }

    private static byte[] refusal(ErrorResponses errors, int maxConnections) {
        byte[] body = errors.body(new ApiException(503, "service_unavailable", null, "too_many_connections",
                "the server is at its connection limit (" + maxConnections + "); retry later", 1));
        String head = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
                + "Connection: close\r\nContent-Length: " + body.length + "\r\n\r\n";
        byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[headBytes.length + body.length];
        System.arraycopy(headBytes, 0, out, 0, headBytes.length);
        System.arraycopy(body, 0, out, headBytes.length, body.length);
        return out;
    }

    /** {@code Host} for an HTTP/1.0 request without one: the address the client connected to. */
    private static String hostHeader(SocketAddress local) {
        if (local instanceof InetSocketAddress isa) {
            String addr = isa.getAddress().getHostAddress();
            return (addr.contains(":") ? "[" + addr + "]" : addr) + ":" + isa.getPort();
        }
        return "localhost";
    }

    private static String shown(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    private static void closeQuietly(Channel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}
