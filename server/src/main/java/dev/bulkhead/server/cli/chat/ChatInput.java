package dev.bulkhead.server.cli.chat;

/** Where the chat reads the user's messages from: a line editor on a terminal, or plain lines from a pipe. */
public interface ChatInput extends AutoCloseable {

    /**
     * Reads the next message: one line, or a {@code """} block of several joined with newlines (quotes removed).
     *
     * @return the text, or null at the end of input (Ctrl-D, end of the pipe)
     * @throws Interrupted when the user pressed Ctrl-C at the prompt
     */
    String read(String prompt) throws Interrupted;

    /** Runs {@code action} whenever the user presses Ctrl-C while no line is being read (an answer is streaming). */
    void onInterrupt(Runnable action);

    /**
     * Runs {@code answer} while the model answers: a terminal stops echoing keys meanwhile (typed-ahead text would
     * land in the middle of the answer; it still reaches the next prompt), and Ctrl-C still signals.
     */
    default void whileAnswering(Runnable answer) {
        answer.run();
    }

    @Override
    void close();

    /** Ctrl-C at the prompt: the line typed so far is discarded. */
    final class Interrupted extends Exception {

        public Interrupted() {
            super("interrupted", null, false, false);
        }
    }
}
