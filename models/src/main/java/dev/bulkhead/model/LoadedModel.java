package dev.bulkhead.model;

import dev.bulkhead.model.arch.ModelWeights;
import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.tensor.WeightSource;
import dev.bulkhead.model.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * A model ready for a backend: its config, its shape-checked weights (still memory-mapped), its tokenizer and
 * its chat template source when it has one. Owns the mapping and the tokenizer; close it to release both.
 *
 * @param origin        the path the user named (directory or file)
 * @param format        which reader loaded it
 * @param config        the model config
 * @param weights       every tensor, bound and checked against the config
 * @param tokenizer     the model's tokenizer
 * @param chatTemplate  Jinja source of the chat template, when the model ships one
 * @param specialTokens variables such as {@code bos_token}/{@code eos_token} the template expects
 * @param source        the weight source that owns the mapped memory
 * @param loadMillis    wall time spent loading
 */
public record LoadedModel(Path origin, ModelFormat format, ModelConfig config, ModelWeights weights, Tokenizer tokenizer,
                          Optional<String> chatTemplate, Map<String, Object> specialTokens, WeightSource source,
                          long loadMillis) implements AutoCloseable {

    /** Checkpoint formats Bulkhead reads. */
    public enum ModelFormat { SAFETENSORS, GGUF, LLAMA2C }

    public LoadedModel {
        specialTokens = Map.copyOf(specialTokens);
    }

    @Override
    public void close() {
        try {
            tokenizer.close();
        } finally {
            source.close();
        }
    }
}
