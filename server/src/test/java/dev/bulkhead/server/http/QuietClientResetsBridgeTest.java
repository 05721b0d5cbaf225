package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * JUL records (Helidon logs through JUL) go through {@link Slf4jLogging}'s bridge: a warning whose exception only
 * says a client went away is dropped to DEBUG (not shown at the default level, never with a stack trace), while any
 * other warning still comes out as a WARN with its stack trace.
 */
class QuietClientResetsBridgeTest {

    @Test
    void aClientResetWarningIsQuietAndARealOneIsNot() {
        Slf4jLogging.install();
        Logger helidon = Logger.getLogger("io.helidon.webserver.ConnectionHandler");
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream err = System.err;
        // NOTE: slf4j-simple writes to whatever System.err is at the time of each line.
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            helidon.log(Level.WARNING, "unexpected I/O exception",
                    new UncheckedIOException(new IOException("Connection reset by peer")));
            helidon.log(Level.WARNING, "socket failed", new SocketException("Broken pipe"));
            String quiet = captured.toString(StandardCharsets.UTF_8);
            assertThat(quiet).doesNotContain("WARN").doesNotContain("\tat ");

            helidon.log(Level.WARNING, "a real problem", new IllegalStateException("routing table is empty"));
        } finally {
            System.setErr(err);
        }
        String loud = captured.toString(StandardCharsets.UTF_8);
        assertThat(loud).contains("WARN").contains("a real problem").contains("routing table is empty")
                .contains("\tat ");
    }

    @Test
    void clientGoneIsToldFromItsCauses() {
        assertThat(ClientDisconnects.isClientGone(new UncheckedIOException(new SocketException("Connection reset"))))
                .isTrue();
        assertThat(ClientDisconnects.isClientGone(new RuntimeException(new IOException("Broken pipe")))).isTrue();
        assertThat(ClientDisconnects.isClientGone(new IOException("No space left on device"))).isFalse();
        assertThat(ClientDisconnects.isClientGone(new IllegalStateException("x"))).isFalse();
        assertThat(ClientDisconnects.describe(new UncheckedIOException(new SocketException("Connection reset"))))
                .isEqualTo("SocketException: Connection reset");
    }
}
