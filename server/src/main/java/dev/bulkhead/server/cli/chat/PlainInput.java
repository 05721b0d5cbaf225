package dev.bulkhead.server.cli.chat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;

/**
 * Input from a pipe or file, for scripts: no line editing or history, the prompt still printed so a transcript
 * reads the same. Ctrl-C is left to the JVM (it ends the process), since there is nobody at a prompt to return to.
 */
public final class PlainInput implements ChatInput {

    private final BufferedReader in;
    private final PrintWriter out;

    public PlainInput(BufferedReader in, PrintWriter out) {
        this.in = in;
        this.out = out;
    }

    @Override
    public String read(String prompt) {
        out.print(prompt);
        out.flush();
        try {
            String line = in.readLine();
            if (line == null || !TripleQuotes.isOpen(line)) {
                return line;
            }
            StringBuilder block = new StringBuilder(line);
            for (String next; (next = in.readLine()) != null; ) {
                block.append('\n').append(next);
                if (next.contains(TripleQuotes.QUOTES)) {
                    break;
                }
            }
            return block.toString();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the chat input: " + e.getMessage(), e);
        }
    }

    @Override
    public void onInterrupt(Runnable action) {
        // NOTE: see the class comment: without a terminal, Ctrl-C ends the process.
    }

    @Override
    public void close() {
        // NOTE: the reader belongs to the caller (stdin).
    }
}
