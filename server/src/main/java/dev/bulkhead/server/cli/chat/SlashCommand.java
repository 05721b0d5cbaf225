package dev.bulkhead.server.cli.chat;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The chat's commands: a line that starts with {@code /} is one of these, never a message to the model. */
enum SlashCommand {
    HELP("/help", "", "list these commands and keys"),
    RESET("/reset", "", "forget the conversation (the system prompt is kept)"),
    SYSTEM("/system", " TEXT", "set the system prompt (no TEXT removes it); the conversation is kept"),
    SAVE("/save", " FILE", "write the conversation to FILE as JSON"),
    LOAD("/load", " FILE", "replace the conversation with one written by /save"),
    EXIT("/exit", "", "quit (also /quit, /bye, Ctrl-D)");

    private static final List<String> EXIT_ALIASES = List.of("/quit", "/bye");

    final String word;
    final String argument;
    final String help;

    SlashCommand(String word, String argument, String help) {
        this.word = word;
        this.argument = argument;
        this.help = help;
    }

    /** The command {@code line} names (its first word), if it is a known one. */
    static Optional<SlashCommand> find(String line) {
        String first = firstWord(line).toLowerCase(Locale.ROOT);
        if (EXIT_ALIASES.contains(first)) {
            return Optional.of(EXIT);
        }
        return Arrays.stream(values()).filter(c -> c.word.equals(first)).findFirst();
    }

    /** What follows the command word, stripped ("" when nothing). */
    static String argument(String line) {
        String s = line.strip();
        int space = s.indexOf(' ');
        return space < 0 ? "" : s.substring(space + 1).strip();
    }

    static String firstWord(String line) {
        String s = line.strip();
        int space = s.indexOf(' ');
        return space < 0 ? s : s.substring(0, space);
    }

    /** Every command word, for tab completion. */
    static List<String> words() {
        return Arrays.stream(values()).map(c -> c.word).toList();
    }

    /** The /help text. */
    static String helpText() {
        StringBuilder sb = new StringBuilder();
        for (SlashCommand c : values()) {
            sb.append(String.format(Locale.ROOT, "  %-15s %s%n", c.word + c.argument, c.help));
        }
        sb.append(String.format(Locale.ROOT, "  %-15s %s%n", "\"\"\"", "start a multi-line message; end it with \"\"\""));
        sb.append(String.format(Locale.ROOT, "  %-15s %s%n", "Ctrl-C", "stop the answer (at the prompt: clear the line)"));
        sb.append(String.format(Locale.ROOT, "  %-15s %s%n", "Up/Down, Tab", "history (kept between chats), complete a command"));
        return sb.toString();
    }
}
