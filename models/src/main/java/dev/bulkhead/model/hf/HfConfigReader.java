package dev.bulkhead.model.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.model.ModelFormatException;
import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.config.ModelFamily;
import dev.bulkhead.model.config.RopeScaling;
import dev.bulkhead.model.config.RopeStyle;
import dev.bulkhead.model.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Reads a transformers {@code config.json} into a {@link ModelConfig}, applying each family's defaults the
 * way its transformers config class does (e.g. Qwen2 always has q/k/v bias, Qwen3 always q/k norms).
 */
public final class HfConfigReader {

    private HfConfigReader() {
    }

    public static ModelConfig read(Path configJson) {
        if (!Files.isRegularFile(configJson)) {
            throw new ModelFormatException(configJson, "config.json not found");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(configJson.toFile());
        } catch (IOException e) {
            throw new ModelFormatException(configJson, "is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelFormatException(configJson, "is not a JSON object");
        }
        try {
            return parse(configJson, root);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(configJson, e.getMessage(), e);
        }
    }

    static ModelConfig parse(Path file, JsonNode c) {
        String modelType = c.path("model_type").asText("");
        ModelFamily family = ModelFamily.fromModelType(modelType).orElseThrow(() -> new ModelFormatException(file,
                "unknown architecture '" + modelType + "' (model_type; supported: " + ModelFamily.supportedList() + ")"));
        String act = c.path("hidden_act").asText("silu");
        if (!act.equals("silu")) {
            throw new ModelFormatException(file, "hidden_act '" + act + "' is not supported (only silu)");
        }
        int hidden = required(file, c, "hidden_size");
        int heads = required(file, c, "num_attention_heads");
        int kvHeads = c.path("num_key_value_heads").isNumber() ? c.get("num_key_value_heads").asInt() : heads;
        int headDim = c.path("head_dim").isNumber() ? c.get("head_dim").asInt() : hidden / heads;
        int slidingWindow = 0;
        if (c.path("sliding_window").isNumber()
                && (family == ModelFamily.MISTRAL || c.path("use_sliding_window").asBoolean(false))) {
            slidingWindow = c.get("sliding_window").asInt();
        }
        boolean bias = switch (family) {
            case QWEN2 -> true;
            default -> c.path("attention_bias").asBoolean(false);
        };
        return new ModelConfig(
                family,
                hidden,
                required(file, c, "intermediate_size"),
                required(file, c, "num_hidden_layers"),
                heads,
                kvHeads,
                headDim,
                required(file, c, "vocab_size"),
                c.path("max_position_embeddings").asInt(2048),
                (float) c.path("rms_norm_eps").asDouble(1e-6),
                c.path("rope_theta").asDouble(10000.0),
                ropeScaling(file, c.path("rope_scaling")),
                RopeStyle.NEOX,
                c.path("tie_word_embeddings").asBoolean(false),
                bias,
                family == ModelFamily.QWEN3,
                slidingWindow,
                c.path("bos_token_id").isNumber() ? c.get("bos_token_id").asInt() : -1,
                eosIds(c.path("eos_token_id")),
                dtype(c.path("torch_dtype").asText(c.path("dtype").asText("float32"))));
    }

    private static int required(Path file, JsonNode c, String field) {
        JsonNode n = c.get(field);
        if (n == null || !n.canConvertToInt()) {
            throw new ModelFormatException(file, "missing or non-integer field " + field);
        }
        return n.asInt();
    }

    private static RopeScaling ropeScaling(Path file, JsonNode s) {
        if (s == null || s.isNull() || s.isMissingNode()) {
            return RopeScaling.NONE;
        }
        String type = s.path("rope_type").asText(s.path("type").asText("default")).toLowerCase(Locale.ROOT);
        return switch (type) {
            case "default" -> RopeScaling.NONE;
            case "linear" -> new RopeScaling(RopeScaling.Type.LINEAR, s.path("factor").asDouble(1), 1, 1, 0);
            case "llama3" -> RopeScaling.llama3(s.path("factor").asDouble(8), s.path("low_freq_factor").asDouble(1),
                    s.path("high_freq_factor").asDouble(4), s.path("original_max_position_embeddings").asInt(8192));
            default -> throw new ModelFormatException(file, "rope_scaling type '" + type
                    + "' is not supported (supported: default, linear, llama3)");
        };
    }

    private static int[] eosIds(JsonNode n) {
        if (n.isNumber()) {
            return new int[] {n.asInt()};
        }
        if (n.isArray()) {
            int[] ids = new int[n.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = n.get(i).asInt();
            }
            return ids;
        }
        return new int[0];
    }

    private static DType dtype(String torchDtype) {
        return switch (torchDtype) {
            case "bfloat16" -> DType.BF16;
            case "float16" -> DType.F16;
            default -> DType.F32;
        };
    }
}
