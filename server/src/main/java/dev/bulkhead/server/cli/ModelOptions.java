package dev.bulkhead.server.cli;

import dev.bulkhead.engine.runner.CpuModelRunner;
import dev.bulkhead.engine.runner.CpuRunnerOptions;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.model.ModelLoader;
import picocli.CommandLine.Option;

/** Options shared by every command that loads a model. */
final class ModelOptions {

    @Option(names = {"-m", "--model"}, paramLabel = "DIR|FILE",
            description = "Hugging Face checkpoint directory, .gguf file or llama2.c .bin (default: the embedded "
                    + "stories260K).")
    String model;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "Tokenizer for a llama2.c checkpoint (default: tokenizer.bin or tok*.bin beside it).")
    String tokenizer;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "CPU threads (default: all available processors).")
    Integer threads;

    @Option(names = {"-c", "--context"}, paramLabel = "TOKENS", defaultValue = "4096",
            description = "KV cache capacity in tokens, capped at the model's max_position_embeddings (default: ${DEFAULT-VALUE}).")
    int context;

    @Option(names = "--batch-tokens", paramLabel = "N", defaultValue = "256",
            description = "Prefill chunk: most tokens per forward step (default: ${DEFAULT-VALUE}).")
    int batchTokens;

    LoadedModel load() {
        return ModelLoader.load(model, tokenizer);
    }

    CpuModelRunner runner(LoadedModel m) {
        int ctx = Math.min(context, m.config().maxPositionEmbeddings());
        if (ctx < 1) {
            throw new IllegalArgumentException("--context must be >= 1, got " + context);
        }
        int n = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        return new CpuModelRunner(m.weights(), CpuRunnerOptions.forContext(n, ctx, Math.min(batchTokens, ctx)));
    }
}
