package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

/**
 * The kernel's answers through netlink {@code sock_diag} about connections this test opens: established, half closed
 * by the peer (CLOSE_WAIT), and gone after a reset, when the port's listener must not be taken for the connection;
 * over IPv4 and, where the host has it, IPv6. Also that the server's watcher uses it.
 */
class SockDiagTest {

    private static SockDiag open() {
        try {
            return SockDiag.open();
        } catch (IllegalStateException e) {
            throw new TestAbortedException("needs netlink sock_diag (Linux): " + e.getMessage());
        }
    }

    private static TcpConnectionTable.Endpoints ends(Socket server) {
        return TcpConnectionTable.Endpoints.of((InetSocketAddress) server.getLocalSocketAddress(),
                (InetSocketAddress) server.getRemoteSocketAddress());
    }

    private static SockDiag.Answer until(SockDiag diag, TcpConnectionTable.Endpoints e, long cookie,
                                         Class<? extends SockDiag.Answer> kind, TcpConnectionTable.State state)
            throws InterruptedException {
        SockDiag.Answer a = diag.lookup(e, cookie);
        for (int i = 0; i < 100 && !(kind.isInstance(a) && (state == null
                || a instanceof SockDiag.Answer.Found f && f.state() == state)); i++) {
            Thread.sleep(10);
            a = diag.lookup(e, cookie);
        }
        return a;
    }

    private static void lifeOfAConnection(InetAddress address) throws Exception {
        try (SockDiag diag = open(); ServerSocket listener = new ServerSocket(0, 4, address)) {
            Socket client = new Socket(address, listener.getLocalPort());
            try (Socket server = listener.accept()) {
                TcpConnectionTable.Endpoints e = ends(server);
                SockDiag.Answer first = diag.lookup(e, SockDiag.NO_COOKIE);
                assertThat(first).isInstanceOf(SockDiag.Answer.Found.class);
                assertThat(((SockDiag.Answer.Found) first).state()).isEqualTo(TcpConnectionTable.State.ESTABLISHED);
                long cookie = ((SockDiag.Answer.Found) first).cookie();
                client.close();
                assertThat(until(diag, e, cookie, SockDiag.Answer.Found.class, TcpConnectionTable.State.CLOSE_WAIT))
                        .isEqualTo(new SockDiag.Answer.Found(TcpConnectionTable.State.CLOSE_WAIT, cookie));
            }
            Socket client2 = new Socket(address, listener.getLocalPort());
            Socket server2 = listener.accept();
            TcpConnectionTable.Endpoints e2 = ends(server2);
            long cookie2 = ((SockDiag.Answer.Found) diag.lookup(e2, SockDiag.NO_COOKIE)).cookie();
            client2.setSoLinger(true, 0);
            client2.close();
            // NOTE: after a reset the kernel's lookup lands on the listener; with or without the cookie that is gone.
            assertThat(until(diag, e2, cookie2, SockDiag.Answer.Gone.class, null)).isInstanceOf(
                    SockDiag.Answer.Gone.class);
            assertThat(diag.lookup(e2, SockDiag.NO_COOKIE)).isInstanceOf(SockDiag.Answer.Gone.class);
            server2.close();
        }
    }

    @Test
    void seesAnIpv4ConnectionEstablishedHalfClosedAndReset() throws Exception {
        lifeOfAConnection(InetAddress.getByName("127.0.0.1"));
    }

    @Test
    void seesAnIpv6ConnectionToo() throws Exception {
        InetAddress v6 = InetAddress.getByName("::1");
        boolean hasV6 = NetworkInterface.networkInterfaces().anyMatch(i -> i.inetAddresses()
                .anyMatch(a -> a instanceof Inet6Address && a.isLoopbackAddress()));
        if (!hasV6) {
            throw new TestAbortedException("no IPv6 loopback address on this host");
        }
        lifeOfAConnection(v6);
    }

    @Test
    void theServersWatcherAsksThroughNetlink() {
        open().close();
        try (DisconnectWatcher w = DisconnectWatcher.system()) {
            assertThat(w.available()).isTrue();
            assertThat(w.source()).isEqualTo("netlink sock_diag");
        }
    }
}
