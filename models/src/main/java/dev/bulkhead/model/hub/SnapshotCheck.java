package dev.bulkhead.model.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Whether a pulled snapshot is a model that loads: a pull with {@code --include config.json} completes (its ref
 * is written) but leaves no weights, and must not be listed or picked as if usable.
 */
final class SnapshotCheck {

    private SnapshotCheck() {
    }

    /** What {@code snapshot} lacks to load as a model; empty when it is complete. */
    static List<String> missing(Path snapshot) {
        List<String> missing = new ArrayList<>();
        List<String> names;
        try (Stream<Path> s = Files.list(snapshot)) {
            names = s.map(p -> p.getFileName().toString()).toList();
        } catch (IOException e) {
            return List.of("the snapshot directory (" + e.getMessage() + ")");
        }
        if (names.stream().anyMatch(n -> n.endsWith(".gguf"))) {
            return missing; // NOTE: a GGUF file carries config, tokenizer and weights.
        }
        if (!names.contains("config.json")) {
            missing.add("config.json");
        }
        if (!names.contains("tokenizer.json")) {
            missing.add("tokenizer.json");
        }
        if (names.contains("model.safetensors.index.json")) {
            missing.addAll(missingShards(snapshot));
        } else if (names.stream().noneMatch(n -> n.endsWith(".safetensors"))) {
            missing.add("weights (*.safetensors)");
        }
        return missing;
    }

    private static List<String> missingShards(Path snapshot) {
        TreeSet<String> shards = new TreeSet<>();
        try {
            JsonNode map = new ObjectMapper().readTree(snapshot.resolve("model.safetensors.index.json").toFile())
                    .path("weight_map");
            map.elements().forEachRemaining(v -> shards.add(v.asText()));
        } catch (IOException e) {
            return List.of("a readable model.safetensors.index.json");
        }
        return shards.stream().filter(s -> !Files.isRegularFile(snapshot.resolve(s))).toList();
    }
}
