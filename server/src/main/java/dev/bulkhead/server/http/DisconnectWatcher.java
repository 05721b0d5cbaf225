package dev.bulkhead.server.http;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices clients that close their connection while their request is still being computed, so the request can be
 * aborted and its KV blocks freed at once instead of when it ends. A streamed request also notices on its next
 * write; a non-streamed one writes nothing until the end, which is why this exists.
 *
 * <p>One thread asks the kernel about the watched connections a few times a second, and only while some request is
 * watched: through netlink {@code sock_diag} ({@link SockDiagProbe}), one lookup per watched connection, so the
 * cost does not grow with the host's other connections; where netlink is unavailable, by reading the whole
 * {@link TcpConnectionTable}. A connection counts as gone when the peer has closed its side (CLOSE_WAIT) or, once
 * seen, when the kernel no longer knows it (reset). Where neither works (not Linux) nothing is noticed and the request
 * runs to its end or deadline, as before; the server logs that once.
 */
final class DisconnectWatcher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DisconnectWatcher.class);
    /** How often the kernel is asked while requests are watched: the bound on how late a disconnect is noticed. */
    static final Duration PERIOD = Duration.ofMillis(200);

    /** A watched connection; {@link #close()} stops watching it. */
    interface Watch extends AutoCloseable {
        @Override
        void close();
    }

    private static final Watch NONE = () -> {
    };

    private final ConnectionProbe probe;
    private final Set<Entry> watched = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService poller;
    private volatile boolean available;

    DisconnectWatcher(ConnectionProbe probe) {
        this.probe = probe;
        this.available = probe.states(List.of()).isPresent();
        if (!available) {
            LOG.info("no kernel TCP state to read ({}): a client that leaves a non-streamed request is noticed only "
                    + "when its answer is written", probe.source());
            this.poller = null;
            return;
        }
        this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bulkhead-disconnect-watcher");
            t.setDaemon(true);
            return t;
        });
        long millis = PERIOD.toMillis();
        poller.scheduleWithFixedDelay(this::poll, millis, millis, TimeUnit.MILLISECONDS);
    }

    /** The watcher over this machine's kernel: netlink where it works, else {@code /proc/net}. */
    static DisconnectWatcher system() {
        String whyNot;
        try {
            return new DisconnectWatcher(new SockDiagProbe(SockDiag.open()));
        } catch (IllegalStateException e) {
            whyNot = e.getMessage();
        }
        TcpConnectionTable table = new TcpConnectionTable(Path.of("/proc/net"));
        if (table.read().isPresent()) {
            LOG.info("netlink sock_diag unavailable ({}); the disconnect watcher reads {} instead, whose cost grows "
                    + "with every connection on the host", whyNot, table.source());
        }
        return new DisconnectWatcher(table);
    }

    /** What the watcher asks the kernel through. */
    String source() {
        return probe.source();
    }

    /** Whether disconnects can be noticed here at all. */
    boolean available() {
        return available;
    }

    /**
     * Runs {@code onGone} once, on the watcher's thread, if the connection between {@code local} (this server's end)
     * and {@code remote} closes before the returned watch is closed. Addresses other than IP sockets are not watched.
     */
    Watch watch(SocketAddress local, SocketAddress remote, Runnable onGone) {
        if (!available || !(local instanceof InetSocketAddress l) || !(remote instanceof InetSocketAddress r)
                || l.getAddress() == null || r.getAddress() == null) {
            return NONE;
        }
        Entry e = new Entry(TcpConnectionTable.Endpoints.of(l, r), onGone);
        watched.add(e);
        return () -> watched.remove(e);
    }

    private void poll() {
        if (watched.isEmpty()) {
            return;
        }
        try {
            List<TcpConnectionTable.Endpoints> asked = watched.stream().map(e -> e.endpoints).toList();
            Optional<Map<TcpConnectionTable.Endpoints, TcpConnectionTable.State>> now = probe.states(asked);
            if (now.isEmpty()) {
                return;
            }
            for (Entry e : watched) {
                TcpConnectionTable.State s = now.get().get(e.endpoints);
                if (s == null ? e.seen : s.peerClosed()) {
                    watched.remove(e);
                    LOG.debug("connection {} closed by the client ({})", e.endpoints, s == null ? "gone" : s);
                    e.onGone.run();
                } else if (s != null) {
                    e.seen = true;
                }
            }
        } catch (RuntimeException ex) {
            // NOTE: the poller must survive a failing callback or a surprising table; the next poll tries again.
            LOG.warn("disconnect watcher poll failed", ex);
        }
    }

    @Override
    public void close() {
        available = false;
        watched.clear();
        if (poller != null) {
            poller.shutdownNow();
            try {
                // NOTE: the probe (a netlink socket) is closed only once the poller can no longer be using it.
                poller.awaitTermination(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        probe.close();
    }

    /** A watched connection; {@code seen} only turns true on the watcher thread. */
    private static final class Entry {
        final TcpConnectionTable.Endpoints endpoints;
        final Runnable onGone;
        boolean seen;

        Entry(TcpConnectionTable.Endpoints endpoints, Runnable onGone) {
            this.endpoints = endpoints;
            this.onGone = onGone;
        }
    }
}
