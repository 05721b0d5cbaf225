package dev.bulkhead.model.synth;

import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.config.ModelFamily;
import dev.bulkhead.model.config.RopeScaling;
import dev.bulkhead.model.config.RopeStyle;
import dev.bulkhead.model.tensor.DType;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Named presets of real model shapes (from each model's published config.json) and tiny shapes for tests.
 * Random-weight checkpoints of the real shapes stand in for the real models in performance runs, since no
 * large checkpoint can be downloaded where Bulkhead is tested.
 */
public final class ModelShapes {

    private static final Map<String, ModelShape> PRESETS = presets();

    private ModelShapes() {
    }

    /** The preset called {@code name} (case-sensitive, as listed by {@link #names()}). */
    public static Optional<ModelShape> find(String name) {
        return Optional.ofNullable(PRESETS.get(name));
    }

    /** The preset called {@code name}, or an exception listing the known names. */
    public static ModelShape get(String name) {
        return find(name).orElseThrow(() -> new IllegalArgumentException(
                "unknown model shape '" + name + "' (known: " + String.join(", ", names()) + ")"));
    }

    /** Every preset name, real shapes first. */
    public static List<String> names() {
        return List.copyOf(PRESETS.keySet());
    }

    /** Every preset, real shapes first. */
    public static List<ModelShape> all() {
        return List.copyOf(PRESETS.values());
    }

    private static Map<String, ModelShape> presets() {
        Map<String, ModelShape> m = new LinkedHashMap<>();
        RopeScaling llama3x32 = RopeScaling.llama3(32, 1, 4, 8192);
        RopeScaling llama3x8 = RopeScaling.llama3(8, 1, 4, 8192);
        int[] llama3Eos = {128001, 128008, 128009};
        put(m, "llama-3.2-1b", new Dims(ModelFamily.LLAMA, 2048, 8192, 16, 32, 8, 64, 128256, 131072)
                .build(1e-5f, 500000, llama3x32, true, 128000, llama3Eos));
        put(m, "llama-3.1-8b", new Dims(ModelFamily.LLAMA, 4096, 14336, 32, 32, 8, 128, 128256, 131072)
                .build(1e-5f, 500000, llama3x8, false, 128000, llama3Eos));
        // NOTE: llama2.c's stories models share the classifier with the embedding (positive vocab_size in the
        // .bin header), so their Hugging Face form is tied.
        put(m, "stories110m", new Dims(ModelFamily.LLAMA, 768, 2048, 12, 12, 12, 64, 32000, 1024)
                .build(1e-5f, 10000, RopeScaling.NONE, true, 1, 2));
        put(m, "stories15m", new Dims(ModelFamily.LLAMA, 288, 768, 6, 6, 6, 48, 32000, 256)
                .build(1e-5f, 10000, RopeScaling.NONE, true, 1, 2));
        put(m, "qwen3-0.6b", new Dims(ModelFamily.QWEN3, 1024, 3072, 28, 16, 8, 128, 151936, 40960)
                .withQkNorm().build(1e-6f, 1_000_000, RopeScaling.NONE, true, 151643, 151645));
        put(m, "qwen2-0.5b", new Dims(ModelFamily.QWEN2, 896, 4864, 24, 14, 2, 64, 151936, 32768)
                .withBias().build(1e-6f, 1_000_000, RopeScaling.NONE, true, 151643, 151645));
        put(m, "mistral-7b", new Dims(ModelFamily.MISTRAL, 4096, 14336, 32, 32, 8, 128, 32000, 32768)
                .build(1e-5f, 1_000_000, RopeScaling.NONE, false, 1, 2));
        // Tiny shapes: vocab 512 so the stories260K tokenizer fits them; small enough for unit tests.
        put(m, "tiny-llama", tiny(ModelFamily.LLAMA, 16).build(1e-5f, 10000, RopeScaling.NONE, true, 1, 2));
        put(m, "tiny-llama3", tiny(ModelFamily.LLAMA, 16)
                .build(1e-5f, 500000, RopeScaling.llama3(4, 1, 4, 64), false, 1, 2, 3));
        put(m, "tiny-qwen2", tiny(ModelFamily.QWEN2, 16).withBias().build(1e-6f, 1_000_000, RopeScaling.NONE, true, 1, 2));
        put(m, "tiny-qwen3", tiny(ModelFamily.QWEN3, 32).withQkNorm()
                .build(1e-6f, 1_000_000, RopeScaling.NONE, true, 1, 2));
        put(m, "tiny-mistral", tiny(ModelFamily.MISTRAL, 16).build(1e-5f, 1_000_000, RopeScaling.NONE, false, 1, 2));
        return Collections.unmodifiableMap(m);
    }

    private static Dims tiny(ModelFamily family, int headDim) {
        return new Dims(family, 64, 160, 2, 4, 2, headDim, 512, 256);
    }

    private static void put(Map<String, ModelShape> m, String name, ModelConfig config) {
        m.put(name, new ModelShape(name, config));
    }

    /** The integer dimensions of a shape plus the two per-family switches. */
    private record Dims(ModelFamily family, int hidden, int ffn, int layers, int heads, int kvHeads, int headDim,
                        int vocab, int maxPos, boolean bias, boolean qkNorm) {

        Dims(ModelFamily family, int hidden, int ffn, int layers, int heads, int kvHeads, int headDim, int vocab,
             int maxPos) {
            this(family, hidden, ffn, layers, heads, kvHeads, headDim, vocab, maxPos, false, false);
        }

        Dims withBias() {
            return new Dims(family, hidden, ffn, layers, heads, kvHeads, headDim, vocab, maxPos, true, qkNorm);
        }

        Dims withQkNorm() {
            return new Dims(family, hidden, ffn, layers, heads, kvHeads, headDim, vocab, maxPos, bias, true);
        }

        ModelConfig build(float eps, double theta, RopeScaling scaling, boolean tied, int bos, int... eos) {
            return new ModelConfig(family, hidden, ffn, layers, heads, kvHeads, headDim, vocab, maxPos, eps, theta,
                    scaling, RopeStyle.NEOX, tied, bias, qkNorm, 0, bos, eos, DType.BF16);
        }
    }
}
