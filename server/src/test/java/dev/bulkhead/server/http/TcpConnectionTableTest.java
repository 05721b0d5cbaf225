package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Parsing the kernel's TCP table, and reading the live one for a connection this test opens and closes. */
class TcpConnectionTableTest {

    @Test
    void parsesIpv4AndMappedIpv6RowsIntoTheSameKeys() throws Exception {
        assumeThat(ByteOrder.nativeOrder()).as("the kernel prints words in host order").isEqualTo(
                ByteOrder.LITTLE_ENDIAN);
        Map<TcpConnectionTable.Endpoints, TcpConnectionTable.State> out = new HashMap<>();
        TcpConnectionTable.parse(List.of(
                "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
                "   0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1",
                "   1: 0100007F:1F40 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 2 1"),
                out);
        TcpConnectionTable.parse(List.of(
                "  sl  local_address                         remote_address                        st tx_queue",
                "   0: 0000000000000000FFFF00000100007F:1F40 0000000000000000FFFF00000100007F:D432 08 00000000:0",
                "   1: 00000000000000000000000001000000:1F41 00000000000000000000000001000000:D433 01 00000000:0"),
                out);
        InetAddress v4 = InetAddress.getByName("127.0.0.1");
        InetAddress v6 = InetAddress.getByName("::1");
        assertThat(out).containsEntry(key(v4, 8000, v4, 0xD431), TcpConnectionTable.State.ESTABLISHED)
                .containsEntry(key(v4, 8000, v4, 0xD432), TcpConnectionTable.State.CLOSE_WAIT)
                .containsEntry(key(v6, 8001, v6, 0xD433), TcpConnectionTable.State.ESTABLISHED)
                .hasSize(4);
        assertThat(TcpConnectionTable.State.CLOSE_WAIT.peerClosed()).isTrue();
        assertThat(TcpConnectionTable.State.ESTABLISHED.peerClosed()).isFalse();
    }

    @Test
    void aDirectoryWithoutTablesReadsAsUnknown(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        assertThat(new TcpConnectionTable(dir).read()).isEmpty();
        Files.writeString(dir.resolve("tcp"), "header\n   0: zz:1 yy:2 01 rest\n");
        assertThat(new TcpConnectionTable(dir).read()).isEmpty();
    }

    @Test
    void seesALiveConnectionGoToCloseWaitWhenThePeerCloses() throws Exception {
        TcpConnectionTable table = new TcpConnectionTable(Path.of("/proc/net"));
        assumeThat(table.read()).as("a Linux /proc/net/tcp").isPresent();
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Socket client = new Socket(listener.getInetAddress(), listener.getLocalPort());
            try (Socket server = listener.accept()) {
                TcpConnectionTable.Endpoints ends = TcpConnectionTable.Endpoints.of(
                        (InetSocketAddress) server.getLocalSocketAddress(),
                        (InetSocketAddress) server.getRemoteSocketAddress());
                assertThat(table.read().orElseThrow()).containsEntry(ends, TcpConnectionTable.State.ESTABLISHED);
                client.close();
                Optional<TcpConnectionTable.State> state = Optional.empty();
                for (int i = 0; i < 100 && (state.isEmpty() || !state.get().peerClosed()); i++) {
                    Thread.sleep(10);
                    state = Optional.ofNullable(table.read().orElseThrow().get(ends));
                }
                assertThat(state).hasValue(TcpConnectionTable.State.CLOSE_WAIT);
            }
        }
    }

    private static TcpConnectionTable.Endpoints key(InetAddress local, int lport, InetAddress remote, int rport) {
        return TcpConnectionTable.Endpoints.of(new InetSocketAddress(local, lport), new InetSocketAddress(remote, rport));
    }
}
