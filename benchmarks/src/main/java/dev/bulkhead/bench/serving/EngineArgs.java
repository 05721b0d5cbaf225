package dev.bulkhead.bench.serving;

import dev.bulkhead.bench.BenchCheckpoints;
import dev.bulkhead.bench.DecodeBench;
import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.internal.cuda.Backends;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.model.ModelLoader;
import dev.bulkhead.model.synth.ModelShapes;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The model, backend and engine sizing options the serving benchmarks share (a picocli mixin): a random
 * checkpoint of a named shape, generated once and cached like the decode benchmark's, or any model spec
 * {@link ModelLoader} takes, run on the backend {@link Backends} picks for {@code --device}.
 */
public final class EngineArgs {

    @Option(names = "--shape", defaultValue = "stories110m", description = "model shape preset (default ${DEFAULT-VALUE})")
    String shape;

    @Option(names = "--model", description = "model spec instead of a random checkpoint: a directory, .gguf, .bin, "
            + "or stories260K for the embedded model")
    String model;

    @Option(names = "--dtype", defaultValue = "f32", description = "weight type of the random checkpoint: f32, bf16 "
            + "or f16 (default ${DEFAULT-VALUE})")
    String dtype;

    @Option(names = "--device", defaultValue = "cpu", description = "backend: cpu, cuda, cuda:N or cuda-emulator "
            + "(default ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--work-dir", defaultValue = "benchmarks/target/models", description = "checkpoint cache")
    Path workDir;

    @Option(names = "--tokenizer", description = "Hugging Face tokenizer dir (default <shared>/models/llama2-tokenizer)")
    Path tokenizer;

    @Option(names = "--weight-seed", defaultValue = "42", description = "seed of the random weights")
    long weightSeed;

    @Option(names = "--threads", defaultValue = "2", description = "forward-pass threads (default ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--block-size", defaultValue = "16", description = "KV block size in tokens")
    int blockSize;

    @Option(names = "--max-batched-tokens", defaultValue = "512", description = "token budget of one step")
    int maxBatchedTokens;

    private Backends.Choice backend;

    /** What the results are labelled with: the shape, or the model spec when one was given. */
    public String label() {
        return model == null ? shape : model;
    }

    /** Loads the model, generating the random checkpoint on first use. */
    public LoadedModel load() {
        if (model != null) {
            return ModelLoader.load(model);
        }
        Path tokenizerDir = tokenizer != null ? tokenizer
                : Path.of(System.getProperty("bulkhead.shared.dir", "../shared"), "models", "llama2-tokenizer");
        if (!Files.isRegularFile(tokenizerDir.resolve("tokenizer.json"))) {
            throw new IllegalArgumentException("no tokenizer.json in " + tokenizerDir.toAbsolutePath() + ": the random "
                    + "checkpoint needs a real tokenizer; pass --tokenizer DIR or run from the project root beside ../shared");
        }
        Path dir = new BenchCheckpoints(workDir, tokenizerDir, weightSeed).huggingFace(ModelShapes.get(shape),
                DecodeBench.parseDType(dtype));
        return ModelLoader.load(dir.toString());
    }

    /** The backend of {@code --device}, chosen (and, for CUDA, bound) on first use; logs one line saying which. */
    public Backends.Choice backend() {
        if (backend == null) {
            backend = Backends.choose(device);
        }
        return backend;
    }

    /**
     * Starts an engine over {@code loaded} whose KV pool holds {@code kvTokens} tokens (plus the reserved null
     * block and one block of slack per sequence), with {@code maxRunning} sequences per step.
     */
    public LlmEngine start(LoadedModel loaded, int maxRunning, int maxModelLen, long kvTokens) {
        if (kvTokens < maxModelLen) {
            throw new IllegalArgumentException("kvTokens must be >= maxModelLen " + maxModelLen + ", got " + kvTokens);
        }
        // NOTE: the KV element is the backend's (f32 on the CPU, bf16 on CUDA), as the engine sizes its pool.
        long bytesPerToken = loaded.config().kvBytesPerToken(backend().factory().kvBytesPerElement());
        long blocks = (kvTokens + blockSize - 1) / blockSize + 1 + maxRunning;
        EngineOptions options = EngineOptions.defaults().withThreads(threads).withBlockSize(blockSize)
                .withMaxBatchedTokens(maxBatchedTokens).withMaxRunning(maxRunning).withMaxModelLen(maxModelLen)
                .withKvCacheBytes(blocks * blockSize * bytesPerToken);
        return new LlmEngine(loaded, options, new SimpleMeterRegistry(), backend().factory());
    }
}
