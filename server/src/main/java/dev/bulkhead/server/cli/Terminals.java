package dev.bulkhead.server.cli;

import java.io.Console;
import java.io.IOException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/** The process's terminal, when there is one: for the chat's line editor and the width of progress bars. */
final class Terminals {

    /** Columns assumed when the width cannot be read. */
    static final int DEFAULT_COLUMNS = 80;

    private Terminals() {
    }

    /** Whether stdin and stdout are a terminal (not a pipe or file). */
    static boolean isInteractive() {
        // NOTE: since JDK 22 System.console() is non-null even when redirected; isTerminal() tells the truth.
        Console c = System.console();
        return c != null && c.isTerminal();
    }

    /**
     * The system terminal through JLine's FFM provider (or {@code stty}), writing to {@code output}. JNI and Jansi
     * are left off: they unpack native libraries into the temp directory, and nothing may be written outside the
     * user's cache.
     */
    static Terminal open(TerminalBuilder.SystemOutput output) throws IOException {
        return TerminalBuilder.builder().system(true).systemOutput(output).providers("ffm,exec")
                .jni(false).jansi(false).jna(false).nativeSignals(true).dumb(true).build();
    }

    /** The width of the terminal that stderr writes to, or {@link #DEFAULT_COLUMNS} when it cannot be read. */
    static int stderrColumns() {
        try (Terminal t = open(TerminalBuilder.SystemOutput.SysErr)) {
            int w = t.getWidth();
            return w > 0 ? w : DEFAULT_COLUMNS;
        } catch (IOException | RuntimeException e) {
            return DEFAULT_COLUMNS;
        }
    }
}
