package dev.bulkhead.model.gguf;

import dev.bulkhead.model.tensor.WeightSource;
import dev.bulkhead.model.tensor.WeightTensor;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The tensors of a GGUF file under their Hugging Face names (see {@link GgufTensorNames}); tensors with no
 * Hugging Face counterpart keep their llama.cpp name. Zero copy: tensors are slices of the mapped file.
 *
 * <p>NOTE: llama.cpp's converters permute the q/k projections of llama-architecture models so RoPE rotates
 * adjacent pairs. They are served as stored, not un-permuted; {@link GgufModelConfig} reports
 * {@code RopeStyle.INTERLEAVED} for such files instead.
 */
public final class GgufWeightSource implements WeightSource {

    private final GgufFile file;
    /** Hugging Face (or passthrough) name → llama.cpp name. */
    private final Map<String, String> names;

    /** Serves the tensors of {@code file} and takes ownership of it: closing the source closes the file. */
    public GgufWeightSource(GgufFile file) {
        this.file = file;
        Map<String, String> map = new LinkedHashMap<>();
        for (String gguf : file.tensorInfos().keySet()) {
            map.put(GgufTensorNames.toHuggingFace(gguf).orElse(gguf), gguf);
        }
        this.names = Collections.unmodifiableMap(map);
    }

    /** Opens {@code path}; closing the source unmaps it. */
    public static GgufWeightSource open(Path path) {
        return new GgufWeightSource(GgufFile.open(path));
    }

    /** The underlying file (metadata, tokenizer, llama.cpp names). */
    public GgufFile file() {
        return file;
    }

    @Override
    public Path origin() {
        return file.path();
    }

    @Override
    public Optional<WeightTensor> find(String name) {
        String gguf = names.get(name);
        return gguf == null ? Optional.empty() : Optional.of(file.tensor(gguf, name));
    }

    @Override
    public Set<String> names() {
        return names.keySet();
    }

    @Override
    public void close() {
        file.close();
    }
}
