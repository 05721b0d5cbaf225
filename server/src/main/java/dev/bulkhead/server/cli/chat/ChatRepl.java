package dev.bulkhead.server.cli.chat;

import dev.bulkhead.engine.InvalidRequestException;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.FinishReason;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.api.TokenStream;
import dev.bulkhead.model.chat.ChatTemplate;
import dev.bulkhead.model.chat.ChatTemplateException;
import dev.bulkhead.server.cli.StreamPrinter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The chat loop: reads messages and slash commands, fits the conversation into the context, streams each answer
 * and lets Ctrl-C stop it (the request is cancelled in the engine, which frees its KV blocks). Nothing a user can
 * type ends the session but {@code /exit} and the end of input: errors are printed and the conversation is kept.
 */
public final class ChatRepl {

    static final String PROMPT = ">>> ";

    private final LlmEngine engine;
    private final ChatTemplate template;
    private final Map<String, Object> templateVariables;
    private final SamplingParams sampling;
    private final ChatInput input;
    private final PrintWriter out;
    private final PrintWriter err;
    private final AtomicReference<String> answering = new AtomicReference<>();
    /** A turn is between Enter and the end of its answer: Ctrl-C now stops it, even before it streams. */
    private volatile boolean inTurn;
    private volatile boolean stopped;
    private Conversation conversation;

    /**
     * @param engine            the engine, sized for one conversation (its max model length is the context)
     * @param template          the chat template
     * @param templateVariables the model's special tokens ({@code bos_token}...) for the template
     * @param sampling          sampling for every answer; its max_tokens is clamped to the room left
     * @param conversation      the conversation to continue (its system prompt included)
     * @param out               where answers go
     * @param err               where notices and errors go
     */
    public ChatRepl(LlmEngine engine, ChatTemplate template, Map<String, Object> templateVariables,
                    SamplingParams sampling, Conversation conversation, ChatInput input, PrintWriter out,
                    PrintWriter err) {
        this.engine = engine;
        this.template = template;
        this.templateVariables = templateVariables;
        this.sampling = sampling;
        this.conversation = conversation;
        this.input = input;
        this.out = out;
        this.err = err;
    }

    /** Runs until {@code /exit} or the end of input. */
    public void run() {
        input.onInterrupt(this::stopAnswer);
        while (true) {
            String line;
            try {
                line = input.read(PROMPT);
            } catch (ChatInput.Interrupted e) {
                notice("(Ctrl-D or /exit to quit)");
                continue;
            }
            if (line == null) {
                out.println(); // NOTE: Ctrl-D leaves the cursor after the prompt; the shell's prompt needs a new line.
                out.flush();
                return;
            }
            String text = TripleQuotes.unwrap(line).strip();
            if (text.isEmpty()) {
                continue;
            }
            if (text.startsWith("/") && !TripleQuotes.isOpen(line) && !line.strip().startsWith(TripleQuotes.QUOTES)) {
                if (!command(text)) {
                    return;
                }
                continue;
            }
            stopped = false;
            inTurn = true;
            try {
                input.whileAnswering(() -> turn(text));
            } finally {
                inTurn = false;
            }
        }
    }

    /** Runs a slash command; returns false to quit. */
    private boolean command(String line) {
        Optional<SlashCommand> found = SlashCommand.find(line);
        if (found.isEmpty()) {
            error("unknown command " + SlashCommand.firstWord(line) + " (not sent to the model); /help lists them");
            return true;
        }
        String arg = SlashCommand.argument(line);
        try {
            switch (found.get()) {
                case HELP -> {
                    out.print(SlashCommand.helpText());
                    out.flush();
                }
                case RESET -> notice("Cleared the conversation (" + conversation.clear() + " messages"
                        + (conversation.system() != null ? "; the system prompt is kept" : "") + ").");
                case SYSTEM -> {
                    conversation.setSystem(arg);
                    notice(arg.isEmpty() ? "Removed the system prompt." : "Set the system prompt.");
                }
                case SAVE -> {
                    requireFile(arg, "/save");
                    conversation.save(Path.of(arg));
                    notice("Saved " + conversation.messages().size() + " messages to " + arg + ".");
                }
                case LOAD -> {
                    requireFile(arg, "/load");
                    conversation = Conversation.load(Path.of(arg));
                    notice("Loaded " + conversation.messages().size() + " messages from " + arg + ".");
                }
                case EXIT -> {
                    return false;
                }
            }
        } catch (IllegalArgumentException | UncheckedIOException e) {
            error(e.getMessage());
        }
        return true;
    }

    private static void requireFile(String arg, String command) {
        if (arg.isEmpty()) {
            throw new IllegalArgumentException(command + " needs a FILE, e.g. " + command + " chat.json");
        }
    }

    /** One user message and its answer; on any failure the message is taken back and the session goes on. */
    private void turn(String text) {
        conversation.addUser(text);
        ContextWindow.Fitted fitted;
        try {
            fitted = ContextWindow.of(engine.maxModelLen(), sampling.maxTokens()).fit(conversation,
                    m -> template.render(m, null, true, templateVariables), engine.tokenizer(), sampling.maxTokens());
        } catch (ChatTemplateException e) {
            conversation.removeLast();
            error("the chat template refused the conversation: " + e.getMessage() + " (the message was not sent)");
            return;
        } catch (ContextWindow.ContextFullException e) {
            conversation.removeLast();
            error(e.getMessage());
            return;
        }
        if (stopped) {
            conversation.removeLast();
            notice("[stopped before the answer began]");
            return;
        }
        if (fitted.droppedTurns() > 0) {
            notice("[dropped the " + (fitted.droppedTurns() == 1 ? "oldest turn" : fitted.droppedTurns()
                    + " oldest turns") + " to fit the " + engine.maxModelLen() + "-token context]");
        }
        try {
            Completion c = stream(GenerateRequest.ofTokens(fitted.ids(),
                    sampling.toBuilder().maxTokens(fitted.maxTokens()).build()));
            out.println();
            out.flush();
            if (c.finishReason() == FinishReason.ABORT) {
                notice("[answer stopped]");
            }
            conversation.addAssistant(c.text().strip());
        } catch (InvalidRequestException | IllegalStateException e) {
            conversation.removeLast();
            error(e.getMessage());
        } catch (ExecutionException e) {
            conversation.removeLast();
            out.println();
            error("the answer failed: " + e.getCause().getMessage());
        }
    }

    /** Streams one answer to {@code out}; Ctrl-C meanwhile cancels it (see {@link #stopAnswer}). */
    private Completion stream(GenerateRequest request) throws ExecutionException {
        TokenStream stream = engine.stream(request);
        answering.set(stream.requestId());
        if (stopped) {
            engine.cancel(stream.requestId()); // NOTE: Ctrl-C came between the check in turn() and now.
        }
        CountDownLatch delivered = StreamPrinter.print(stream, out, () -> stopped);
        try {
            Completion c = stream.completion().get();
            // NOTE: the completion can beat the last deltas to this thread; wait so the answer prints whole.
            delivered.await(1, TimeUnit.SECONDS);
            return c;
        } catch (InterruptedException e) {
            engine.cancel(stream.requestId());
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while answering", e);
        } finally {
            answering.set(null);
        }
    }

    /** Ctrl-C while an answer streams: cancel its request in the engine, which frees the request's KV blocks. */
    private void stopAnswer() {
        if (!inTurn) {
            return;
        }
        stopped = true;
        String id = answering.get();
        if (id != null) {
            engine.cancel(id);
        }
    }

    /** The conversation as it stands (after any dropped turns, loads and resets). */
    public Conversation conversation() {
        return conversation;
    }

    private void notice(String text) {
        err.println(text);
        err.flush();
    }

    private void error(String text) {
        err.println("bulkhead: " + text);
        err.flush();
    }
}
