package dev.bulkhead.model.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.model.ModelFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} run by DJL's binding to the Rust tokenizers library, so encoding is
 * exactly what transformers' fast tokenizers produce. The vocabulary itself is read with Jackson for
 * {@link #tokenText} and {@link #tokenId}, which DJL does not expose.
 */
public final class HfTokenizer implements Tokenizer {

    public static final String FILE = "tokenizer.json";

    private final HuggingFaceTokenizer tokenizer;
    private final String[] idToToken;
    private final Map<String, Integer> tokenToId;
    private final int bosId;
    private final int eosId;

    private HfTokenizer(HuggingFaceTokenizer tokenizer, String[] idToToken, Map<String, Integer> tokenToId,
                        int bosId, int eosId) {
        this.tokenizer = tokenizer;
        this.idToToken = idToToken;
        this.tokenToId = tokenToId;
        this.bosId = bosId;
        this.eosId = eosId;
    }

    /**
     * Loads {@code tokenizer.json} from a model directory (or the file itself). BOS and EOS come from
     * {@code tokenizer_config.json} beside it when present, else from the caller's config ids.
     */
    public static HfTokenizer load(Path path, int configBosId, int configEosId) {
        Path file = Files.isDirectory(path) ? path.resolve(FILE) : path;
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException(file, "tokenizer not found (a Hugging Face model directory needs "
                    + FILE + ")");
        }
        ObjectMapper json = new ObjectMapper();
        JsonNode root;
        try {
            root = json.readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelFormatException(file, "is not valid JSON: " + e.getMessage(), e);
        }
        Map<String, Integer> tokenToId = new HashMap<>();
        root.path("model").path("vocab").properties().forEach(e -> tokenToId.put(e.getKey(), e.getValue().asInt()));
        root.path("added_tokens").forEach(t -> tokenToId.put(t.path("content").asText(), t.path("id").asInt()));
        if (tokenToId.isEmpty()) {
            throw new ModelFormatException(file, "has no model.vocab (only vocabulary-based tokenizers are supported)");
        }
        int size = tokenToId.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        String[] idToToken = new String[size];
        tokenToId.forEach((t, id) -> {
            if (id >= 0) {
                idToToken[id] = t;
            }
        });
        JsonNode tokenizerConfig = tokenizerConfig(json, file.toAbsolutePath().getParent());
        int bos = specialId(tokenizerConfig, "bos_token", tokenToId, configBosId);
        int eos = specialId(tokenizerConfig, "eos_token", tokenToId, configEosId);
        HuggingFaceTokenizer hf;
        // NOTE: before DJL's first call, which would otherwise call home and run ldconfig (see DjlDefaults).
        DjlDefaults.apply();
        try {
            // NOTE: DJL truncates to 512 tokens and pads by default; an engine needs every token.
            hf = HuggingFaceTokenizer.newInstance(file, Map.of("truncation", "false", "padding", "false",
                    "addSpecialTokens", "true"));
        } catch (IOException | RuntimeException e) {
            throw new ModelFormatException(file, "the tokenizers library rejected it: " + e.getMessage(), e);
        }
        return new HfTokenizer(hf, idToToken, Map.copyOf(tokenToId), bos, eos);
    }

    /** tokenizer_config.json beside tokenizer.json, or a missing node when there is none. */
    private static JsonNode tokenizerConfig(ObjectMapper json, Path dir) {
        Path config = dir == null ? null : dir.resolve("tokenizer_config.json");
        if (config == null || !Files.isRegularFile(config)) {
            return json.missingNode();
        }
        try {
            return json.readTree(config.toFile());
        } catch (IOException e) {
            throw new ModelFormatException(config, "is not valid JSON: " + e.getMessage(), e);
        }
    }

    private static int specialId(JsonNode tokenizerConfig, String field, Map<String, Integer> vocab, int fallback) {
        JsonNode node = tokenizerConfig.path(field);
        String text = node.isObject() ? node.path("content").asText(null) : node.asText(null);
        return text != null && vocab.containsKey(text) ? vocab.get(text) : fallback;
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        Encoding enc = tokenizer.encode(text, addSpecialTokens, false);
        long[] ids = enc.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            longs[i] = ids[i];
        }
        return tokenizer.decode(longs, skipSpecialTokens);
    }

    @Override
    public int vocabSize() {
        return idToToken.length;
    }

    @Override
    public String tokenText(int id) {
        return id >= 0 && id < idToToken.length && idToToken[id] != null ? idToToken[id] : "";
    }

    @Override
    public int tokenId(String token) {
        return tokenToId.getOrDefault(token, -1);
    }

    @Override
    public int bosId() {
        return bosId;
    }

    @Override
    public int eosId() {
        return eosId;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
