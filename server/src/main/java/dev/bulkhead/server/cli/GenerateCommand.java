package dev.bulkhead.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

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
        try (LlmEngine engine = modelOptions.engine(spec.commandLine().getErr())) {
            int[] promptIds = engine.tokenizer().encode(prompt, true);
            GenerateRequest request = GenerateRequest.ofTokens(promptIds, sampling.params(new int[0]));
            if (!json) {
                out.print(prompt);
                out.flush();
            }
            Completion c = StreamPrinter.run(engine, request, json ? null : out);
            RunTimings t = RunTimings.of(c);
            if (json) {
                out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                        .writeValueAsString(toJson(engine, c, t)));
            } else {
                out.println();
                spec.commandLine().getErr().printf("[%s: %d prompt tokens, %d generated, prefill %.1f tok/s, "
                                + "decode %.1f tok/s, %s, %d threads]%n", modelOptions.reference().name(),
                        promptIds.length, c.tokenIds().length, t.prefillTokensPerSecond(), t.decodeTokensPerSecond(),
                        c.finishReason().name().toLowerCase(java.util.Locale.ROOT), modelOptions.threadCount());
            }
        }
        return 0;
    }

    private static Map<String, Object> toJson(LlmEngine engine, Completion c, RunTimings t) {
        Map<String, Object> timings = new LinkedHashMap<>();
        timings.put("load_ms", engine.model().loadMillis());
        timings.put("prefill_ms", t.prefillMillis());
        timings.put("prefill_tokens", t.prefillTokens());
        timings.put("prefill_tok_per_s", t.prefillTokensPerSecond());
        timings.put("decode_ms", t.decodeMillis());
        timings.put("decode_tokens", t.decodeTokens());
        timings.put("decode_tok_per_s", t.decodeTokensPerSecond());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", engine.model().origin().toString());
        m.put("prompt_token_ids", c.promptTokenIds());
        m.put("token_ids", c.tokenIds());
        m.put("text", c.text());
        m.put("finish_reason", c.finishReason().name().toLowerCase(java.util.Locale.ROOT));
        m.put("timings", timings);
        return m;
    }
}
