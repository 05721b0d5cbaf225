package dev.bulkhead.server.http;

import io.helidon.common.buffers.DataReader;
import io.helidon.webserver.ServerConnectionException;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.nio.channels.ClosedChannelException;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Tells failures that only mean the client went away (a reset, a broken pipe, a connection closed mid-body) from
 * real ones. The operator has nothing to act on for those, so they are logged at DEBUG in one line, never as errors
 * with stack traces; ERROR stays for what needs a person.
 */
final class ClientDisconnects {

    private ClientDisconnects() {
    }

    /** Whether {@code t}, or any of its causes, says the connection to the client failed or was closed by it. */
    static boolean isClientGone(Throwable t) {
        Set<Throwable> seen = new HashSet<>();
        for (Throwable c = t; c != null && seen.add(c); c = c.getCause()) {
            if (c instanceof ServerConnectionException || c instanceof SocketException
                    || c instanceof ClosedChannelException || c instanceof EOFException
                    || c instanceof DataReader.InsufficientDataAvailableException) {
                return true;
            }
            // NOTE: the JDK reports a reset or broken pipe on a write as a plain IOException; only its text says so.
            if (c instanceof IOException && c.getMessage() != null) {
                String m = c.getMessage().toLowerCase(Locale.ROOT);
                if (m.contains("connection reset") || m.contains("broken pipe") || m.contains("connection abort")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** One line for the log: the innermost cause's type and message (e.g. {@code SocketException: Connection reset}). */
    static String describe(Throwable t) {
        Throwable root = t;
        Set<Throwable> seen = new HashSet<>();
        while (root.getCause() != null && seen.add(root)) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }
}
