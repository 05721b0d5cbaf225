package dev.bulkhead.server.cli;

import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.model.chat.ChatTemplate;
import dev.bulkhead.model.chat.ChatTemplateException;
import dev.bulkhead.model.embedded.EmbeddedModel;
import dev.bulkhead.server.cli.chat.ChatInput;
import dev.bulkhead.server.cli.chat.ChatRepl;
import dev.bulkhead.server.cli.chat.Conversation;
import dev.bulkhead.server.cli.chat.JLineInput;
import dev.bulkhead.server.cli.chat.PlainInput;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code bulkhead chat}: an interactive conversation rendered through the model's chat template. */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = "Chat with the model, using its chat template (the embedded story model gets a plain one). On a "
                    + "terminal: line editing, history, \"\"\" for multi-line messages, Ctrl-C stops an answer; /help "
                    + "lists the commands. Old turns are dropped when the conversation outgrows the context.")
final class ChatCommand implements Callable<Integer> {

    /** The history file's name under the Bulkhead cache directory. */
    static final String HISTORY_FILE = "chat_history";

    @Spec
    CommandSpec spec;

    @ParentCommand
    BulkheadCli parent;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--system", paramLabel = "TEXT", description = "System prompt.")
    String system;

    @Option(names = "--chat-template", paramLabel = "FILE",
            description = "Jinja chat template to use instead of the model's own (needed when the model has none).")
    Path templateFile;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String fileSource = templateFile == null ? null : readTemplate(templateFile);
        try (LlmEngine engine = modelOptions.engine(err)) {
            LoadedModel model = engine.model();
            ChatTemplate template = compile(fileSource != null ? fileSource : modelTemplate(model));
            Map<String, Object> variables = model.specialTokens();
            if (variables.isEmpty() && modelOptions.isEmbedded()) {
                variables = Map.of("bos_token", "<s>", "eos_token", "</s>");
            }
            Conversation conversation = new Conversation(system);
            if (!parent.interactive()) {
                try (ChatInput input = new PlainInput(parent.in(), out)) {
                    new ChatRepl(engine, template, variables, sampling.params(new int[0]), conversation, input, out,
                            err).run();
                }
                return 0;
            }
            Terminal terminal = Terminals.open(TerminalBuilder.SystemOutput.SysOut);
            try (ChatInput input = new JLineInput(terminal, historyFile())) {
                err.printf("Chatting with %s (%d-token context). /help for commands, Ctrl-D or /exit to quit.%n",
                        modelOptions.reference().name(), engine.maxModelLen());
                err.flush();
                new ChatRepl(engine, template, variables, sampling.params(new int[0]), conversation, input,
                        terminal.writer(), err).run();
            }
        }
        return 0;
    }

    /** The history file under the cache directory ({@code bulkhead.cache.dir}, XDG or ~/.cache/bulkhead). */
    static Path historyFile() throws IOException {
        Path root = EmbeddedModel.defaultCacheRoot();
        Files.createDirectories(root);
        return root.resolve(HISTORY_FILE);
    }

    private String modelTemplate(LoadedModel model) {
        if (model.chatTemplate().isPresent()) {
            return model.chatTemplate().get();
        }
        if (modelOptions.isEmbedded()) {
            return EmbeddedModel.chatTemplate();
        }
        throw new IllegalArgumentException(model.origin().getFileName() + " has no chat template; pass "
                + "--chat-template FILE (a Jinja template such as a model's tokenizer_config.json chat_template)");
    }

    /** Reads {@code --chat-template}, saying what is wrong with the file when it cannot be read. */
    static String readTemplate(Path file) {
        if (!Files.exists(file)) {
            throw new IllegalArgumentException("--chat-template " + file + ": no such file");
        }
        if (Files.isDirectory(file)) {
            throw new IllegalArgumentException("--chat-template " + file + ": is a directory, not a Jinja file");
        }
        try {
            String source = Files.readString(file);
            if (source.isBlank()) {
                throw new IllegalArgumentException("--chat-template " + file + ": the file is empty");
            }
            return source;
        } catch (IOException e) {
            throw new IllegalArgumentException("--chat-template " + file + ": cannot be read ("
                    + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")", e);
        }
    }

    private ChatTemplate compile(String source) {
        try {
            return ChatTemplate.compile(source);
        } catch (ChatTemplateException | IllegalArgumentException e) {
            throw new IllegalArgumentException((templateFile != null ? "--chat-template " + templateFile
                    : "the model's chat template") + " is not a template this renderer accepts: " + e.getMessage(), e);
        }
    }
}
