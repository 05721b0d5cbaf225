package dev.bulkhead.model.tensor;

import dev.bulkhead.model.ModelFormatException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/**
 * The tensors of one checkpoint, looked up by their Hugging Face names
 * ({@code model.layers.0.self_attn.q_proj.weight}). Formats with other names (GGUF, llama2.c) translate.
 * Owns the mapped memory: closing it unmaps every tensor it handed out.
 */
public interface WeightSource extends AutoCloseable {

    /** The file or directory the weights came from, for error messages. */
    Path origin();

    Optional<WeightTensor> find(String name);

    /** Every tensor name this source can serve (Hugging Face names). */
    Set<String> names();

    default WeightTensor get(String name) {
        return find(name).orElseThrow(() -> new ModelFormatException(origin(), "missing tensor " + name));
    }

    @Override
    void close();
}
