package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Closeable;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What one poll of the {@link DisconnectWatcher} costs with {@value #IDLE} idle connections on the host: reading the
 * whole {@code /proc/net/tcp} (the old way, still the fallback) against netlink lookups of only the watched
 * connections ({@link SockDiagProbe}), for 1 to {@value #MAX_WATCHED} watched. The figures (median of
 * {@value #ROUNDS} polls, and the share of one core at the watcher's 200 ms period) are printed and written to
 * {@code target/disconnect-watcher-cost.json}; there are no timing assertions. It asserts what must hold anywhere:
 * the idle connections really are in the kernel's table, and among them the probe still sees a watched client close.
 *
 * <p>NOTE: the idle connections are never accepted (they wait in listen backlogs), so they cost this JVM one file
 * descriptor each; the kernel lists both of their ends, as it would for a host's other servers' connections.
 */
class DisconnectWatcherCostTest {

    private static final int IDLE = 10_000;
    private static final int MAX_WATCHED = 1_000;
    private static final int ROUNDS = 21;

    @Test
    @Timeout(300)
    void onePollCostsPerWatchedConnectionNotPerHostConnection() throws Exception {
        SockDiag diag;
        try {
            diag = SockDiag.open();
        } catch (IllegalStateException e) {
            throw new org.opentest4j.TestAbortedException("needs netlink sock_diag (Linux): " + e.getMessage());
        }
        long fdLimit = ((com.sun.management.UnixOperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getMaxFileDescriptorCount();
        assumeThat(fdLimit).as("file descriptors for %d idle + %d watched connections", IDLE, MAX_WATCHED)
                .isGreaterThan(IDLE + 2L * MAX_WATCHED + 500);
        List<Closeable> open = new ArrayList<>();
        try (SockDiagProbe probe = new SockDiagProbe(diag)) {
            openIdle(open);
            List<Socket> serverEnds = new ArrayList<>();
            List<Socket> clients = new ArrayList<>();
            ServerSocket watchedListener = new ServerSocket(0, MAX_WATCHED, InetAddress.getLoopbackAddress());
            open.add(watchedListener);
            for (int i = 0; i < MAX_WATCHED; i++) {
                Socket c = new Socket(InetAddress.getLoopbackAddress(), watchedListener.getLocalPort());
                clients.add(c);
                open.add(c);
                Socket s = watchedListener.accept();
                serverEnds.add(s);
                open.add(s);
            }
            List<TcpConnectionTable.Endpoints> watched = serverEnds.stream().map(s -> TcpConnectionTable.Endpoints.of(
                    (InetSocketAddress) s.getLocalSocketAddress(), (InetSocketAddress) s.getRemoteSocketAddress()))
                    .toList();

            TcpConnectionTable table = new TcpConnectionTable(Path.of("/proc/net"));
            int rows = table.read().orElseThrow().size();
            assertThat(rows).as("rows in /proc/net/tcp{,6}: both ends of every connection").isGreaterThan(2 * IDLE);

            ObjectNode report = new ObjectMapper().createObjectNode();
            report.put("idle_connections", IDLE).put("table_rows", rows).put("rounds", ROUNDS)
                    .put("poll_period_ms", DisconnectWatcher.PERIOD.toMillis())
                    .put("cpus", Runtime.getRuntime().availableProcessors());
            double procMs = medianMillis(() -> table.states(watched.subList(0, 1)));
            put(report.putObject("proc_net_tcp"), procMs);
            ObjectNode netlink = report.putObject("netlink_sock_diag");
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT,
                    "DisconnectWatcherCostTest: %d idle connections (%d table rows); one poll: /proc/net/tcp %.2f ms "
                            + "(%.1f%% of a core)", IDLE, rows, procMs, share(procMs)));
            for (int n : new int[] {1, 10, 100, MAX_WATCHED}) {
                List<TcpConnectionTable.Endpoints> some = watched.subList(0, n);
                assertThat(probe.states(some).orElseThrow()).as("every watched connection found").hasSize(n);
                double ms = medianMillis(() -> probe.states(some));
                put(netlink.putObject(n + "_watched"), ms);
                line.append(String.format(Locale.ROOT, "; netlink, %d watched %.3f ms (%.2f%%)", n, ms, share(ms)));
            }
            System.out.println(line);
            String out = new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(report);
            System.out.println("DisconnectWatcherCostTest: " + out);
            Path file = Path.of("target", "disconnect-watcher-cost.json");
            Files.createDirectories(file.getParent());
            Files.writeString(file, out);

            // Among all of that, a client that closes is still seen.
            clients.get(7).close();
            TcpConnectionTable.State state = null;
            for (int i = 0; i < 100 && (state == null || !state.peerClosed()); i++) {
                Thread.sleep(10);
                state = probe.states(List.of(watched.get(7))).orElseThrow().get(watched.get(7));
            }
            assertThat(state).isEqualTo(TcpConnectionTable.State.CLOSE_WAIT);
            assertThat(probe.states(List.of(watched.get(8))).orElseThrow())
                    .containsEntry(watched.get(8), TcpConnectionTable.State.ESTABLISHED);
        } finally {
            for (Closeable c : open.reversed()) {
                try {
                    c.close();
                } catch (IOException ignored) {
                    // best effort
                }
            }
        }
    }

    /** {@value #IDLE} connections to listeners that never accept, as many per listener as its backlog holds. */
    private static void openIdle(List<Closeable> open) throws IOException {
        int perListener = Math.min(2_000, somaxconn());
        ServerSocket listener = null;
        for (int i = 0; i < IDLE; i++) {
            if (i % perListener == 0) {
                listener = new ServerSocket(0, perListener, InetAddress.getLoopbackAddress());
                open.add(listener);
            }
            Socket s = new Socket();
            open.add(s);
            s.connect(listener.getLocalSocketAddress(), 10_000);
        }
    }

    private static int somaxconn() {
        try {
            return Integer.parseInt(Files.readString(Path.of("/proc/sys/net/core/somaxconn")).strip());
        } catch (IOException | NumberFormatException e) {
            return 128;
        }
    }

    private static double medianMillis(Supplier<Optional<Map<TcpConnectionTable.Endpoints,
            TcpConnectionTable.State>>> poll) {
        double[] ms = new double[ROUNDS];
        poll.get();
        for (int i = 0; i < ROUNDS; i++) {
            long t0 = System.nanoTime();
            assertThat(poll.get()).isPresent();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return ms[ROUNDS / 2];
    }

    /** Percent of one core spent polling every {@link DisconnectWatcher#PERIOD}. */
    private static double share(double msPerPoll) {
        return 100.0 * msPerPoll / DisconnectWatcher.PERIOD.toMillis();
    }

    private static void put(ObjectNode node, double ms) {
        node.put("median_ms_per_poll", Math.round(ms * 1000) / 1000.0)
                .put("percent_of_one_core", Math.round(share(ms) * 100) / 100.0);
    }
}
