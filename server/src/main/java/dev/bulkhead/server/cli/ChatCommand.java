package dev.bulkhead.server.cli;

import dev.bulkhead.engine.InvalidRequestException;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.model.chat.ChatTemplate;
import java.io.BufferedReader;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code bulkhead chat}: an interactive conversation rendered through the model's chat template. */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Chat with the model on stdin/stdout, using its chat template.",
                "Type /reset to start over, /exit (or end of input) to quit."})
final class ChatCommand implements Callable<Integer> {

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
        try (LlmEngine engine = modelOptions.engine(spec.commandLine().getErr())) {
            LoadedModel model = engine.model();
            String source = templateFile != null ? Files.readString(templateFile) : model.chatTemplate().orElseThrow(() ->
                    new IllegalArgumentException(model.origin().getFileName() + " has no chat template; pass "
                            + "--chat-template FILE (a Jinja template such as a model's tokenizer_config.json chat_template)"));
            ChatTemplate template = ChatTemplate.compile(source);
            List<Map<String, Object>> messages = new ArrayList<>();
            resetConversation(messages);
            BufferedReader in = parent.in();
            while (true) {
                out.print("> ");
                out.flush();
                String line = in.readLine();
                if (line == null || line.strip().equals("/exit")) {
                    break;
                }
                if (line.strip().equals("/reset")) {
                    resetConversation(messages);
                    continue;
                }
                if (line.isBlank()) {
                    continue;
                }
                messages.add(Map.of("role", "user", "content", line));
                String prompt = template.render(messages, null, true, model.specialTokens());
                // NOTE: the rendered template already holds BOS where the model wants it, as transformers assumes.
                int[] ids = model.tokenizer().encode(prompt, false);
                Completion r;
                try {
                    r = StreamPrinter.run(engine, GenerateRequest.ofTokens(ids, sampling.params(new int[0])), out);
                } catch (InvalidRequestException e) {
                    // NOTE: the conversation outgrew the context; keep the session, drop the turn.
                    messages.removeLast();
                    spec.commandLine().getErr().println("bulkhead: " + e.getMessage() + " (type /reset to start over)");
                    continue;
                }
                out.println();
                messages.add(Map.of("role", "assistant", "content", r.text()));
            }
        }
        return 0;
    }

    private void resetConversation(List<Map<String, Object>> messages) {
        messages.clear();
        if (system != null) {
            messages.add(Map.of("role", "system", "content", system));
        }
    }
}
