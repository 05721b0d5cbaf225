package dev.bulkhead.model.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.model.ModelFormatException;
import dev.bulkhead.model.tensor.WeightSource;
import dev.bulkhead.model.tensor.WeightTensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The weights of a Hugging Face checkpoint directory: {@code model.safetensors}, or the shards listed by
 * {@code model.safetensors.index.json}. Every shard stays mapped until {@link #close()}.
 */
public final class SafetensorsWeightSource implements WeightSource {

    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private final Path origin;
    private final List<SafetensorsFile> files;
    private final Map<String, WeightTensor> tensors;

    private SafetensorsWeightSource(Path origin, List<SafetensorsFile> files) {
        this.origin = origin;
        this.files = files;
        Map<String, WeightTensor> all = new LinkedHashMap<>();
        for (SafetensorsFile f : files) {
            for (WeightTensor t : f.tensors().values()) {
                if (all.putIfAbsent(t.name(), t) != null) {
                    throw new ModelFormatException(f.file(), "tensor " + t.name() + " appears in two shards");
                }
            }
        }
        this.tensors = Collections.unmodifiableMap(all);
    }

    /** Opens a checkpoint directory, or a single {@code .safetensors} file. */
    public static SafetensorsWeightSource open(Path path) {
        if (Files.isRegularFile(path)) {
            return new SafetensorsWeightSource(path, List.of(SafetensorsFile.open(path)));
        }
        Path index = path.resolve(INDEX_FILE);
        if (Files.isRegularFile(index)) {
            return openSharded(path, index);
        }
        Path single = path.resolve(SINGLE_FILE);
        if (Files.isRegularFile(single)) {
            return new SafetensorsWeightSource(path, List.of(SafetensorsFile.open(single)));
        }
        throw new ModelFormatException(path, "no " + SINGLE_FILE + " or " + INDEX_FILE + " found");
    }

    private static SafetensorsWeightSource openSharded(Path dir, Path index) {
        JsonNode weightMap;
        try {
            weightMap = new ObjectMapper().readTree(index.toFile()).path("weight_map");
        } catch (IOException e) {
            throw new ModelFormatException(index, "cannot parse: " + e.getMessage(), e);
        }
        if (!weightMap.isObject() || weightMap.isEmpty()) {
            throw new ModelFormatException(index, "has no weight_map object");
        }
        Set<String> shardNames = new LinkedHashSet<>();
        weightMap.properties().forEach(e -> shardNames.add(e.getValue().asText()));
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            for (String shard : shardNames) {
                Path p = dir.resolve(shard).normalize();
                if (!p.startsWith(dir.normalize()) || !Files.isRegularFile(p)) {
                    throw new ModelFormatException(index, "shard " + shard + " listed in weight_map does not exist");
                }
                opened.add(SafetensorsFile.open(p));
            }
            SafetensorsWeightSource source = new SafetensorsWeightSource(dir, List.copyOf(opened));
            weightMap.properties().forEach(e -> {
                if (!source.tensors.containsKey(e.getKey())) {
                    throw new ModelFormatException(index, "tensor " + e.getKey() + " is mapped to "
                            + e.getValue().asText() + " but that shard does not contain it");
                }
            });
            return source;
        } catch (RuntimeException e) {
            opened.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    @Override
    public Path origin() {
        return origin;
    }

    @Override
    public Optional<WeightTensor> find(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    /** The shard files, in index order. */
    public List<SafetensorsFile> files() {
        return files;
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
