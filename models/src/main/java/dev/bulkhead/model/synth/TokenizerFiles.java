package dev.bulkhead.model.synth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.model.ModelFormatException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/** Copies a Hugging Face tokenizer next to a generated checkpoint, after checking its ids fit the model. */
final class TokenizerFiles {

    /** Files a Hugging Face tokenizer may consist of; tokenizer.json is required. */
    static final List<String> NAMES = List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
            "tokenizer.model");

    private TokenizerFiles() {
    }

    /**
     * Copies the tokenizer files of {@code tokenizerDir} into {@code outDir}.
     *
     * @throws IllegalArgumentException when tokenizer.json is missing or has ids at or past {@code vocabSize}
     *                                  (the model could not embed them)
     */
    static List<Path> copy(Path tokenizerDir, Path outDir, int vocabSize) {
        Path json = tokenizerDir.resolve("tokenizer.json");
        if (!Files.isRegularFile(json)) {
            throw new IllegalArgumentException("tokenizer directory " + tokenizerDir + " has no tokenizer.json");
        }
        int maxId = maxTokenId(json);
        if (maxId >= vocabSize) {
            throw new IllegalArgumentException(json + " has token id " + maxId + " but the model's vocab_size is "
                    + vocabSize + "; pick a tokenizer that fits the shape");
        }
        List<Path> copied = new ArrayList<>();
        try {
            for (String name : NAMES) {
                Path src = tokenizerDir.resolve(name);
                if (Files.isRegularFile(src)) {
                    Path dst = outDir.resolve(name);
                    // NOTE: copied as a stream so the copy is writable even when the source is read-only.
                    try (InputStream in = Files.newInputStream(src)) {
                        Files.copy(in, dst, StandardCopyOption.REPLACE_EXISTING);
                    }
                    copied.add(dst);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy tokenizer from " + tokenizerDir + ": " + e.getMessage(), e);
        }
        return List.copyOf(copied);
    }

    /** Largest id in the model vocabulary (BPE/WordPiece map or Unigram list) and the added tokens. */
    static int maxTokenId(Path tokenizerJson) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(tokenizerJson.toFile());
        } catch (IOException e) {
            throw new ModelFormatException(tokenizerJson, "is not valid JSON: " + e.getMessage(), e);
        }
        int max = -1;
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) {
            for (JsonNode id : (Iterable<JsonNode>) vocab::elements) {
                max = Math.max(max, id.asInt());
            }
        } else if (vocab.isArray()) {
            max = vocab.size() - 1;
        }
        for (JsonNode added : root.path("added_tokens")) {
            max = Math.max(max, added.path("id").asInt(-1));
        }
        if (max < 0) {
            throw new ModelFormatException(tokenizerJson, "has no model.vocab and no added_tokens");
        }
        return max;
    }
}
