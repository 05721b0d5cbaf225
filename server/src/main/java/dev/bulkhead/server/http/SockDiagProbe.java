package dev.bulkhead.server.http;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Asks the kernel about each watched connection through {@link SockDiag}, remembering each one's socket cookie once
 * seen, so a connection replaced by another with the same endpoints is not mistaken for it.
 */
final class SockDiagProbe implements ConnectionProbe {

    private final SockDiag diag;
    private Map<TcpConnectionTable.Endpoints, Long> cookies = new HashMap<>();

    SockDiagProbe(SockDiag diag) {
        this.diag = diag;
    }

    @Override
    public synchronized Optional<Map<TcpConnectionTable.Endpoints, TcpConnectionTable.State>> states(
            Collection<TcpConnectionTable.Endpoints> connections) {
        Map<TcpConnectionTable.Endpoints, TcpConnectionTable.State> out = new HashMap<>();
        Map<TcpConnectionTable.Endpoints, Long> seen = new HashMap<>();
        for (TcpConnectionTable.Endpoints e : connections) {
            switch (diag.lookup(e, cookies.getOrDefault(e, SockDiag.NO_COOKIE))) {
                case SockDiag.Answer.Found(TcpConnectionTable.State state, long cookie) -> {
                    out.put(e, state);
                    seen.put(e, cookie);
                }
                case SockDiag.Answer.Gone() -> {
                    // absent from the answer: gone
                }
                case SockDiag.Answer.Unknown(String why) -> {
                    return Optional.empty();
                }
            }
        }
        // NOTE: only the connections asked about now keep their cookies, so the map never outgrows the watch list.
        cookies = seen;
        return Optional.of(out);
    }

    @Override
    public String source() {
        return "netlink sock_diag";
    }

    @Override
    public synchronized void close() {
        diag.close();
    }
}
