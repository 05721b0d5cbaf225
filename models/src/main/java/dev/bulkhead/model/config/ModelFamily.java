package dev.bulkhead.model.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** Decoder families Bulkhead runs. All share the Llama decoder block; the differences live in {@link ModelConfig}. */
public enum ModelFamily {
    LLAMA("llama"),
    MISTRAL("mistral"),
    /** q/k/v projections carry a bias. */
    QWEN2("qwen2"),
    /** per-head RMSNorm on q and k before RoPE. */
    QWEN3("qwen3");

    private final String modelType;

    ModelFamily(String modelType) {
        this.modelType = modelType;
    }

    /** The {@code model_type} of config.json (also GGUF's {@code general.architecture}). */
    public String modelType() {
        return modelType;
    }

    public static Optional<ModelFamily> fromModelType(String type) {
        String t = type == null ? "" : type.toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(f -> f.modelType.equals(t)).findFirst();
    }

    public static String supportedList() {
        return String.join(", ", Arrays.stream(values()).map(ModelFamily::modelType).toList());
    }
}
