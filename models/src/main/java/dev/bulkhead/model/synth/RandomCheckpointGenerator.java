package dev.bulkhead.model.synth;

import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.safetensors.SafetensorsWriter;
import dev.bulkhead.model.tensor.DType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a Hugging Face checkpoint of a {@link ModelShape} with random weights: {@code config.json},
 * {@code generation_config.json}, safetensors (sharded past the shard size) and optionally a real tokenizer.
 * The weights are a pure function of the seed (see {@link RandomWeights}); a random model of a real shape
 * exercises the engine's memory and speed like the real one, since no large checkpoint can be downloaded.
 * Tensor data is streamed, so any shape can be written from a JVM with a small heap.
 */
public final class RandomCheckpointGenerator {

    private static final Logger LOG = LoggerFactory.getLogger(RandomCheckpointGenerator.class);

    private final SafetensorsWriter writer;

    /** A generator that shards at Hugging Face's default 5 GB. */
    public RandomCheckpointGenerator() {
        this(SafetensorsWriter.DEFAULT_MAX_SHARD_BYTES);
    }

    /** A generator that starts a new shard before one would exceed {@code maxShardBytes} of tensor data. */
    public RandomCheckpointGenerator(long maxShardBytes) {
        this.writer = new SafetensorsWriter(maxShardBytes);
    }

    /**
     * What was written.
     *
     * @param dir         the checkpoint directory
     * @param config      the config as a reader of config.json will see it
     * @param weightFiles the safetensors files, then the index when sharded
     * @param tensorBytes bytes of tensor data over all shards
     * @param millis      wall time of the whole generation
     */
    public record Result(Path dir, ModelConfig config, List<Path> weightFiles, long tensorBytes, long millis) {

        public Result {
            weightFiles = List.copyOf(weightFiles);
        }
    }

    /** {@link #write} with the default shard size. */
    public static Result generate(ModelShape shape, DType dtype, long seed, Path outDir, Path tokenizerDirOrNull) {
        return new RandomCheckpointGenerator().write(shape, dtype, seed, outDir, tokenizerDirOrNull);
    }

    /**
     * Writes the checkpoint of {@code shape} into {@code outDir} (created if needed).
     *
     * @param dtype              storage type of every tensor: F32, F16 or BF16
     * @param seed               weights are identical for equal seeds, byte for byte
     * @param tokenizerDirOrNull a directory with tokenizer.json (and optionally tokenizer_config.json,
     *                           special_tokens_map.json, tokenizer.model) to copy; its ids must fit the vocab
     */
    public Result write(ModelShape shape, DType dtype, long seed, Path outDir, Path tokenizerDirOrNull) {
        String torchDtype = HfConfigJson.torchDtype(dtype);
        long start = System.nanoTime();
        ModelConfig config = shape.config(dtype);
        try {
            Files.createDirectories(outDir);
            if (tokenizerDirOrNull != null) {
                TokenizerFiles.copy(tokenizerDirOrNull, outDir, config.vocabSize());
            }
            Files.writeString(outDir.resolve("config.json"), HfConfigJson.config(config, dtype));
            Files.writeString(outDir.resolve("generation_config.json"), HfConfigJson.generationConfig(config));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint to " + outDir + ": " + e.getMessage(), e);
        }
        List<Path> files = writer.writeCheckpoint(outDir, shape.tensors(dtype), new RandomWeights(seed));
        long bytes = shape.byteSize(dtype);
        long millis = (System.nanoTime() - start) / 1_000_000;
        LOG.info("wrote random {} checkpoint ({} parameters, {} bytes of {}, {} file(s), seed {}) to {} in {} ms",
                shape.name(), shape.parameterCount(), bytes, torchDtype, files.size(), seed, outDir, millis);
        return new Result(outDir, config, files, bytes, millis);
    }
}
