package dev.bulkhead.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.bulkhead.engine.generate.GenerationResult;
import dev.bulkhead.engine.generate.Generator;
import dev.bulkhead.engine.runner.CpuModelRunner;
import dev.bulkhead.model.LoadedModel;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code bulkhead generate}: continue a prompt and stream the text, or print one JSON result. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continue a prompt with the model and stream the text to stdout.")
final class GenerateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    SamplingOptions sampling;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", defaultValue = "",
            description = "Text to continue (default: empty, i.e. start from BOS).")
    String prompt;

    @Option(names = "--json", description = "Print one JSON object (ids, text, finish_reason, timings) instead of streaming.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (LoadedModel model = modelOptions.load(); CpuModelRunner runner = modelOptions.runner(model)) {
            Generator generator = new Generator(model, runner);
            int[] promptIds = model.tokenizer().encode(prompt, true);
            if (!json) {
                out.print(prompt);
                out.flush();
            }
            GenerationResult r = generator.generate(promptIds, sampling.params(new int[0]), json ? d -> { } : d -> {
                out.print(d);
                out.flush();
            });
            if (json) {
                out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(toJson(model, r)));
            } else {
                out.println();
                spec.commandLine().getErr().printf("[%s: %d prompt tokens, %d generated, prefill %.1f tok/s, decode %.1f tok/s, %s, %d threads]%n",
                        model.origin().getFileName(), r.promptTokenIds().length, r.tokenIds().length,
                        r.timings().prefillTokensPerSecond(), r.timings().decodeTokensPerSecond(),
                        r.finishReason().name().toLowerCase(java.util.Locale.ROOT), runner.threads());
            }
        }
        return 0;
    }

    private static Map<String, Object> toJson(LoadedModel model, GenerationResult r) {
        Map<String, Object> timings = new LinkedHashMap<>();
        timings.put("load_ms", model.loadMillis());
        timings.put("prefill_ms", r.timings().prefillMillis());
        timings.put("prefill_tokens", r.timings().prefillTokens());
        timings.put("prefill_tok_per_s", r.timings().prefillTokensPerSecond());
        timings.put("decode_ms", r.timings().decodeMillis());
        timings.put("decode_tokens", r.timings().decodeTokens());
        timings.put("decode_tok_per_s", r.timings().decodeTokensPerSecond());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model.origin().toString());
        m.put("prompt_token_ids", r.promptTokenIds());
        m.put("token_ids", r.tokenIds());
        m.put("text", r.text());
        m.put("finish_reason", r.finishReason().name().toLowerCase(java.util.Locale.ROOT));
        m.put("timings", timings);
        return m;
    }
}
