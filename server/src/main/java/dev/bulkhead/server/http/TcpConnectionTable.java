package dev.bulkhead.server.http;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The kernel's table of TCP sockets as Linux prints it in {@code /proc/net/tcp} and {@code /proc/net/tcp6}: which
 * state each connection of this network namespace is in, keyed by its two endpoints. The HTTP layer reads it to see
 * that a client closed its side while a request is still being computed, without touching the socket (a read would
 * race Helidon's own reader, and Java offers no non-consuming peek on a blocking socket).
 *
 * <p>This is the {@link DisconnectWatcher}'s fallback where netlink ({@link SockDiagProbe}) is not available.
 *
 * <p>Addresses are normalised to 16-byte IPv6 form (IPv4 as {@code ::ffff:a.b.c.d}), because a Java server socket is
 * dual-stack: its IPv4 clients appear in {@code tcp6} as mapped addresses while Java reports them as IPv4.
 */
final class TcpConnectionTable implements ConnectionProbe {

    /** A socket's state, from the {@code st} column (include/net/tcp_states.h). */
    enum State {
        ESTABLISHED(0x01), SYN_SENT(0x02), SYN_RECV(0x03), FIN_WAIT1(0x04), FIN_WAIT2(0x05), TIME_WAIT(0x06),
        CLOSE(0x07), CLOSE_WAIT(0x08), LAST_ACK(0x09), LISTEN(0x0A), CLOSING(0x0B), NEW_SYN_RECV(0x0C), OTHER(-1);

        private final int code;

        State(int code) {
            this.code = code;
        }

        static State of(int code) {
            for (State s : values()) {
                if (s.code == code) {
                    return s;
                }
            }
            return OTHER;
        }

        /** Whether the peer has finished with the connection (sent FIN or reset it). */
        boolean peerClosed() {
            return this == CLOSE_WAIT || this == CLOSE || this == LAST_ACK || this == CLOSING;
        }
    }

    /**
     * One connection's two ends, seen from this host.
     *
     * @param local  16-byte local address
     * @param localPort local port
     * @param remote 16-byte remote address
     * @param remotePort remote port
     */
    record Endpoints(byte[] local, int localPort, byte[] remote, int remotePort) {

        static Endpoints of(InetSocketAddress local, InetSocketAddress remote) {
            return new Endpoints(normalise(local.getAddress()), local.getPort(), normalise(remote.getAddress()),
                    remote.getPort());
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Endpoints e && localPort == e.localPort && remotePort == e.remotePort
                    && Arrays.equals(local, e.local) && Arrays.equals(remote, e.remote);
        }

        @Override
        public int hashCode() {
            return (31 * (31 * Arrays.hashCode(local) + localPort) + Arrays.hashCode(remote)) * 31 + remotePort;
        }

        @Override
        public String toString() {
            return text(local) + ":" + localPort + " <-> " + text(remote) + ":" + remotePort;
        }

        private static String text(byte[] a) {
            try {
                return InetAddress.getByAddress(a).getHostAddress();
            } catch (UnknownHostException e) {
                return Arrays.toString(a);
            }
        }
    }

    private static final List<String> FILES = List.of("tcp", "tcp6");

    private final Path dir;

    /** Reads {@code dir/tcp} and {@code dir/tcp6}; normally {@code /proc/net}. */
    TcpConnectionTable(Path dir) {
        this.dir = dir;
    }

    /**
     * The whole table, whichever connections are asked about. NOTE: its cost grows with every TCP connection of the
     * network namespace (20,000 rows for 10,000 idle loopback connections), which is why {@link SockDiagProbe} is
     * preferred where netlink works.
     */
    @Override
    public Optional<Map<Endpoints, State>> states(Collection<Endpoints> connections) {
        return read();
    }

    @Override
    public String source() {
        return dir.resolve("tcp") + " and tcp6";
    }

    /** The table as it is now, or empty when this system has no such files (not Linux, or /proc not mounted). */
    Optional<Map<Endpoints, State>> read() {
        Map<Endpoints, State> out = new HashMap<>();
        boolean any = false;
        for (String f : FILES) {
            Path p = dir.resolve(f);
            if (!Files.isReadable(p)) {
                continue;
            }
            try {
                parse(Files.readAllLines(p), out);
                any = true;
            } catch (IOException | RuntimeException e) {
                // NOTE: a table we cannot read or parse tells nothing; the caller then notices nothing.
                return Optional.empty();
            }
        }
        return any ? Optional.of(out) : Optional.empty();
    }

    /** Adds every row of one file's {@code lines} (header included) to {@code out}. */
    static void parse(List<String> lines, Map<Endpoints, State> out) {
        for (int i = 1; i < lines.size(); i++) {
            String[] cols = lines.get(i).trim().split("\\s+");
            if (cols.length < 4) {
                continue;
            }
            int[] localPort = new int[1];
            int[] remotePort = new int[1];
            byte[] local = address(cols[1], localPort);
            byte[] remote = address(cols[2], remotePort);
            out.put(new Endpoints(local, localPort[0], remote, remotePort[0]), State.of(Integer.parseInt(cols[3], 16)));
        }
    }

    /**
     * Decodes {@code HEXADDR:HEXPORT}. The kernel prints the address as 32-bit words in host byte order (one word
     * for IPv4, four for IPv6) and the port as a plain number.
     */
    private static byte[] address(String field, int[] port) {
        int colon = field.indexOf(':');
        String hex = field.substring(0, colon);
        port[0] = Integer.parseInt(field.substring(colon + 1), 16);
        ByteBuffer bytes = ByteBuffer.allocate(hex.length() / 2).order(ByteOrder.nativeOrder());
        for (int w = 0; w < hex.length(); w += 8) {
            bytes.putInt((int) Long.parseLong(hex.substring(w, w + 8), 16));
        }
        byte[] a = bytes.array();
        return a.length == 4 ? mapped(a) : a;
    }

    private static byte[] normalise(InetAddress a) {
        if (a instanceof Inet4Address) {
            return mapped(a.getAddress());
        }
        if (a instanceof Inet6Address) {
            return a.getAddress();
        }
        throw new IllegalArgumentException("not an IP address: " + a);
    }

    private static byte[] mapped(byte[] v4) {
        byte[] v6 = new byte[16];
        v6[10] = (byte) 0xFF;
        v6[11] = (byte) 0xFF;
        System.arraycopy(v4, 0, v6, 12, 4);
        return v6;
    }
}
