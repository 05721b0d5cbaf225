package dev.bulkhead.server.cli.chat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.jline.reader.Candidate;
import org.jline.reader.EOFError;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.ParsedLine;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Attributes;
import org.jline.terminal.Terminal;

/**
 * Input from a terminal through JLine: line editing, a history file kept between chats, tab completion of the
 * slash commands, {@code """} blocks edited as one multi-line entry, and Ctrl-C handled by the chat instead of
 * ending the process.
 */
public final class JLineInput implements ChatInput {

    private final Terminal terminal;
    private final LineReader reader;

    /**
     * @param terminal    the terminal to read from; closed with this input
     * @param historyFile where the history is kept (appended as lines are entered), or null for none
     */
    public JLineInput(Terminal terminal, Path historyFile) {
        this.terminal = terminal;
        LineReaderBuilder b = LineReaderBuilder.builder().terminal(terminal).appName("bulkhead")
                .parser(new TripleQuoteParser())
                .completer((r, line, candidates) -> {
                    // NOTE: only a command word at the start of the line completes; message text never does.
                    if (line.wordIndex() == 0 && line.line().startsWith("/")) {
                        SlashCommand.words().forEach(w -> candidates.add(new Candidate(w)));
                    }
                })
                .variable(LineReader.SECONDARY_PROMPT_PATTERN, "... ")
                .variable(LineReader.HISTORY_SIZE, 1000)
                // NOTE: messages are prose: '!' must not expand history, and a leading space must not hide a line.
                .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
                .option(LineReader.Option.HISTORY_IGNORE_SPACE, false);
        if (historyFile != null) {
            b.variable(LineReader.HISTORY_FILE, historyFile);
        }
        reader = b.build();
    }

    @Override
    public String read(String prompt) throws Interrupted {
        try {
            return reader.readLine(prompt);
        } catch (UserInterruptException e) {
            throw new Interrupted();
        } catch (EndOfFileException e) {
            return null;
        }
    }

    @Override
    public void onInterrupt(Runnable action) {
        terminal.handle(Terminal.Signal.INT, s -> action.run());
    }

    @Override
    public void whileAnswering(Runnable answer) {
        Attributes saved = terminal.getAttributes();
        Attributes quiet = new Attributes(saved);
        quiet.setLocalFlag(Attributes.LocalFlag.ECHO, false);
        terminal.setAttributes(quiet);
        try {
            answer.run();
        } finally {
            terminal.setAttributes(saved);
        }
    }

    @Override
    public void close() {
        try {
            reader.getHistory().save();
            terminal.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close the terminal: " + e.getMessage(), e);
        }
    }

    /**
     * Words split on blanks only, quotes and backslashes taken literally (messages are prose: "don't" must not open
     * a quote); an unclosed {@code """} asks for another line.
     */
    static final class TripleQuoteParser extends DefaultParser {

        TripleQuoteParser() {
            setQuoteChars(new char[0]);
            setEscapeChars(new char[0]);
        }

        @Override
        public ParsedLine parse(String line, int cursor, ParseContext context) {
            if (context == ParseContext.ACCEPT_LINE && TripleQuotes.isOpen(line)) {
                throw new EOFError(-1, -1, "unclosed \"\"\"", TripleQuotes.QUOTES);
            }
            return super.parse(line, cursor, context);
        }
    }
}
