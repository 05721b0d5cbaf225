package dev.bulkhead.server.http;

import java.util.Collection;
import java.util.Map;
import java.util.Optional;

/**
 * Where the {@link DisconnectWatcher} learns the kernel's state of the connections it watches: netlink
 * {@link SockDiagProbe} (one lookup per watched connection) where it works, else the whole {@link TcpConnectionTable}.
 */
interface ConnectionProbe extends AutoCloseable {

    /**
     * The state of each of {@code connections} now; a connection missing from the map is unknown to the kernel (gone,
     * or not there yet). The map may hold other connections too. Empty when nothing can be told now.
     */
    Optional<Map<TcpConnectionTable.Endpoints, TcpConnectionTable.State>> states(
            Collection<TcpConnectionTable.Endpoints> connections);

    /** What it asks, for log lines. */
    String source();

    @Override
    default void close() {
    }
}
