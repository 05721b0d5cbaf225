package dev.bulkhead.server.cli;

import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.internal.cuda.Backends;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.model.ModelLoader;
import dev.bulkhead.model.WeightPrefetcher;
import dev.bulkhead.model.hub.HubCache;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintWriter;
import picocli.CommandLine.Option;

/** Options shared by every command that loads a model. */
final class ModelOptions {

    private static final long PREFETCH_THRESHOLD_BYTES = 256L << 20;

    @Option(names = {"-m", "--model"}, paramLabel = "DIR|FILE|ORG/NAME",
            description = "Hugging Face checkpoint directory, .gguf file, llama2.c .bin, or a repository id pulled with "
                    + "`bulkhead pull` (default: the embedded stories260K, a story model).")
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

    @Option(names = "--device", paramLabel = "auto|cpu|cuda[:N]|cuda-emulator",
            defaultValue = "${sys:bulkhead.backend:-cpu}",
            description = "Backend (default: ${DEFAULT-VALUE}; -Dbulkhead.backend sets it). auto uses CUDA when a GPU and "
                    + "driver are found and says why not otherwise; cuda fails with that reason. cuda-emulator runs "
                    + "the CUDA backend on a CPU emulator of the driver, cuBLAS and the kernels: far slower than cpu, "
                    + "for testing the CUDA path without a GPU (auto never picks it). NOTE: the CUDA backend has not "
                    + "been verified on a GPU yet.")
    String device;

    /** Help of {@code --cpu-gemm}, shared with {@code serve}; one string, so picocli wraps it whole. */
    static final String CPU_GEMM_HELP = "Matrix products of 32+ tokens on the CPU backend, any weight type (default: "
            + "${DEFAULT-VALUE}; -Dbulkhead.cpu.gemm sets it). openblas calls libopenblas.so.0 "
            + "(-Dbulkhead.cpu.openblas=FILE to name it; startup fails if missing): faster prefill, but a token's "
            + "logits then depend on its batch. java keeps the engine batch invariant.";

    @Option(names = "--cpu-gemm", paramLabel = "java|openblas", defaultValue = "${sys:bulkhead.cpu.gemm:-java}",
            description = CPU_GEMM_HELP)
    String cpuGemm;

    @Option(names = "--batch-tokens", paramLabel = "N", defaultValue = "256",
            description = "Prefill chunk: most tokens per forward step (default: ${DEFAULT-VALUE}).")
    int batchTokens;

    /** Pages in weights of 256 MB or more up front, showing progress; tiny models load instantly anyway. */
    static void prefetch(LoadedModel m, PrintWriter err) {
        if (m.weights().byteSize() >= PREFETCH_THRESHOLD_BYTES) {
            WeightPrefetcher.prefetch(m.weights(), new PullCommand.ProgressBar(err, PullCommand.isTerminal(), "loading"));
        }
    }

    /** The model {@code --model} names, resolved (a repository id becomes its pulled snapshot). */
    ModelReference reference() {
        return ModelReference.resolve(model, HubCache.defaultCache());
    }

    /** Whether {@code --model} names the embedded model. */
    boolean isEmbedded() {
        return reference().spec() == null;
    }

    int threadCount() {
        return threads == null ? Runtime.getRuntime().availableProcessors() : threads;
    }

    /**
     * Loads the model (reading large weights into memory with a progress bar on {@code err}) and starts an
     * engine sized for one conversation of {@code --context} tokens.
     */
    LlmEngine engine(PrintWriter err) {
        LoadedModel m = ModelLoader.load(reference().spec(), tokenizer);
        try {
            prefetch(m, err);
            int ctx = Math.min(context, m.config().maxPositionEmbeddings());
            if (ctx < 2) {
                throw new IllegalArgumentException("--context must be >= 2, got " + context);
            }
            int n = threadCount();
            int blockSize = 16;
            long blocks = (ctx + blockSize - 1) / blockSize + 1;
            Backends.Choice backend = Backends.choose(device);
            long kvBytes = blocks * blockSize * m.config().kvBytesPerToken(backend.factory().kvBytesPerElement());
            EngineOptions options = EngineOptions.defaults().withThreads(n).withBlockSize(blockSize)
                    .withKvCacheBytes(kvBytes).withMaxModelLen(ctx).withMaxBatchedTokens(Math.min(batchTokens, ctx))
                    .withMaxRunning(1).withCpuGemm(EngineOptions.CpuGemm.parse(cpuGemm));
            return new LlmEngine(m, options, new SimpleMeterRegistry(), backend.factory());
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }
}
