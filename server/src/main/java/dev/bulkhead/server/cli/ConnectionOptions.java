package dev.bulkhead.server.cli;

import dev.bulkhead.server.http.ConnectionLimits;
import java.time.Duration;
import picocli.CommandLine.Option;

/** {@code serve}'s connection cap and timeouts ({@link ConnectionLimits}), in seconds. */
final class ConnectionOptions {

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "0",
            description = "Connections served at once; past it (and " + ConnectionLimits.OPS_RESERVE + " more kept "
                    + "for /health, /ready, /metrics) new ones get a 503 (default: 0 = up to "
                    + ConnectionLimits.AUTO_MAX_CONNECTIONS + ", fewer under a low open-file limit).")
    int maxConnections;

    @Option(names = "--header-timeout", paramLabel = "SECONDS", defaultValue = "20",
            description = "Time to send a request's line and headers (default: ${DEFAULT-VALUE}).")
    double headerTimeout;

    @Option(names = "--body-timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "Time to send a request's whole body (default: ${DEFAULT-VALUE}).")
    double bodyTimeout;

    @Option(names = "--idle-timeout", paramLabel = "SECONDS", defaultValue = "75",
            description = "Time a keep-alive connection may wait for its next request (default: ${DEFAULT-VALUE}).")
    double idleTimeout;

    @Option(names = "--stream-stall-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "Time a response may wait on a client that reads nothing before it is dropped and its "
                    + "request aborted (default: ${DEFAULT-VALUE}).")
    double streamStallTimeout;

    ConnectionLimits limits() {
        return new ConnectionLimits(maxConnections, seconds("--header-timeout", headerTimeout),
                seconds("--body-timeout", bodyTimeout), seconds("--idle-timeout", idleTimeout),
                seconds("--stream-stall-timeout", streamStallTimeout), 0);
    }

    private static Duration seconds(String flag, double value) {
        if (!(value > 0) || value > 86_400) {
            throw new IllegalArgumentException(flag + " must be in (0, 86400] seconds, got " + value);
        }
        return Duration.ofMillis(Math.max(1, Math.round(value * 1000)));
    }
}
