package dev.bulkhead.server.cli.chat;

/** Multi-line messages: a message that starts with {@code """} runs until the next {@code """}. */
final class TripleQuotes {

    static final String QUOTES = "\"\"\"";

    private TripleQuotes() {
    }

    /** Whether {@code text} opens a {@code """} block that it does not close. */
    static boolean isOpen(String text) {
        String s = text.stripLeading();
        if (!s.startsWith(QUOTES)) {
            return false;
        }
        return !s.substring(QUOTES.length()).contains(QUOTES);
    }

    /** The message inside a {@code """} block (without the quotes and the newlines next to them), or {@code text}. */
    static String unwrap(String text) {
        String s = text.strip();
        if (!s.startsWith(QUOTES)) {
            return text;
        }
        s = s.substring(QUOTES.length());
        int end = s.lastIndexOf(QUOTES);
        if (end >= 0) {
            s = s.substring(0, end);
        }
        return s.strip();
    }
}
