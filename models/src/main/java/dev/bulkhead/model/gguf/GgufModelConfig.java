package dev.bulkhead.model.gguf;

import dev.bulkhead.model.ModelFormatException;
import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.config.ModelFamily;
import dev.bulkhead.model.config.RopeScaling;
import dev.bulkhead.model.config.RopeStyle;
import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.Dequantizer;
import dev.bulkhead.model.tensor.WeightTensor;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;

/** Builds a {@link ModelConfig} from GGUF metadata ({@code <arch>.*}, {@code tokenizer.ggml.*}) and tensor infos. */
public final class GgufModelConfig {

    /** Llama 3.x RoPE scalings llama.cpp bakes into {@code rope_freqs.weight}: factor, low, high, original ctx. */
    private static final double[][] KNOWN_LLAMA3_SCALINGS = {{8, 1, 4, 8192}, {32, 1, 4, 8192}, {16, 1, 4, 8192}};

    private final GgufFile file;
    private final String arch;

    private GgufModelConfig(GgufFile file, String arch) {
        this.file = file;
        this.arch = arch;
    }

    /**
     * Reads the config of {@code file}.
     *
     * @throws ModelFormatException when the architecture is not supported or a required key is missing or
     *                              out of range
     */
    public static ModelConfig from(GgufFile file) {
        String arch = file.metadata().architecture()
                .orElseThrow(() -> new ModelFormatException(file.path(), "missing metadata general.architecture"));
        ModelFamily family = ModelFamily.fromModelType(arch).orElseThrow(() -> new ModelFormatException(file.path(),
                "unknown architecture " + arch + " (supported: " + ModelFamily.supportedList() + ")"));
        return new GgufModelConfig(file, arch.toLowerCase(Locale.ROOT)).build(family);
    }

    private ModelConfig build(ModelFamily family) {
        int hidden = required("embedding_length");
        int heads = required("attention.head_count");
        int kvHeads = optional("attention.head_count_kv").orElse(heads);
        int headDim = optional("attention.key_length").orElse(heads > 0 ? hidden / heads : 0);
        Optional<Integer> rotary = optional("rope.dimension_count");
        if (rotary.isPresent() && rotary.get() != headDim) {
            throw error("partial rotary embedding (" + arch + ".rope.dimension_count " + rotary.get()
                    + " < head dim " + headDim + ") is not supported");
        }
        double eps = file.metadata().getDouble(arch + ".attention.layer_norm_rms_epsilon")
                .orElseThrow(() -> error("missing metadata " + arch + ".attention.layer_norm_rms_epsilon"));
        double theta = file.metadata().getDouble(arch + ".rope.freq_base").orElse(10000);
        boolean tied = file.tensorInfo("output.weight").isEmpty();
        DType dtype = file.tensorInfo("blk.0.attn_q.weight").map(GgufTensorInfo::type)
                .orElseThrow(() -> error("missing tensor blk.0.attn_q.weight"));
        // NOTE: llama.cpp permutes llama/mistral q and k for adjacent-pair RoPE; Qwen converters do not.
        RopeStyle style = family == ModelFamily.LLAMA || family == ModelFamily.MISTRAL
                ? RopeStyle.INTERLEAVED : RopeStyle.NEOX;
        try {
            return new ModelConfig(family, hidden, required("feed_forward_length"), required("block_count"), heads,
                    kvHeads, headDim, vocabSize(), required("context_length"), (float) eps, theta,
                    ropeScaling(theta, headDim), style, tied, file.tensorInfo("blk.0.attn_q.bias").isPresent(),
                    file.tensorInfo("blk.0.attn_q_norm.weight").isPresent(),
                    optional("attention.sliding_window").orElse(0), tokenId("bos").orElse(-1), eosIds(), dtype);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file.path(), "invalid model config: " + e.getMessage(), e);
        }
    }

    private int vocabSize() {
        // NOTE: the embedding's rows are what the forward pass computes logits over (possibly padded past
        // the tokenizer's vocabulary), so they win over the token list.
        Optional<GgufTensorInfo> embedding = file.tensorInfo("token_embd.weight");
        if (embedding.isPresent()) {
            return toInt("token_embd.weight rows", embedding.get().shape()[0]);
        }
        return file.metadata().getArray("tokenizer.ggml.tokens").map(GgufArray::length)
                .orElseThrow(() -> error("neither token_embd.weight nor tokenizer.ggml.tokens give the vocab size"));
    }

    private int[] eosIds() {
        return Arrays.stream(new String[] {"eos", "eot", "eom"}).map(this::tokenId).flatMap(Optional::stream)
                .mapToInt(Integer::intValue).distinct().toArray();
    }

    private Optional<Integer> tokenId(String kind) {
        String key = "tokenizer.ggml." + kind + "_token_id";
        OptionalLong id = file.metadata().getLong(key);
        return id.isPresent() ? Optional.of(toInt(key, id.getAsLong())) : Optional.empty();
    }

    private RopeScaling ropeScaling(double theta, int headDim) {
        String type = file.metadata().getString(arch + ".rope.scaling.type").orElse("none");
        double factor = file.metadata().getDouble(arch + ".rope.scaling.factor").orElse(1);
        switch (type) {
            case "none" -> {
                // Llama 3.1+ GGUF carry their scaling only as precomputed per-frequency factors.
                return file.tensorInfo("rope_freqs.weight").isPresent() ? llama3FromRopeFreqs(theta, headDim)
                        : RopeScaling.NONE;
            }
            case "linear" -> {
                if (!(factor > 0)) {
                    throw error(arch + ".rope.scaling.factor must be > 0, got " + factor);
                }
                return factor == 1 ? RopeScaling.NONE : new RopeScaling(RopeScaling.Type.LINEAR, factor, 1, 1, 0);
            }
            default -> throw error("unsupported RoPE scaling " + type + " (supported: none, linear, llama3)");
        }
    }

    /** Matches {@code rope_freqs.weight} (base / scaled frequency per pair) against the known Llama 3 scalings. */
    private RopeScaling llama3FromRopeFreqs(double theta, int headDim) {
        WeightTensor freqs = file.tensor("rope_freqs.weight");
        if (freqs.dtype() != DType.F32 || freqs.elementCount() != headDim / 2) {
            throw error("rope_freqs.weight must be F32 with " + headDim / 2 + " values, is " + freqs);
        }
        float[] stored = new float[headDim / 2];
        Dequantizer.dequantize(DType.F32, freqs.data(), 0, stored, 0, stored.length);
        for (double[] c : KNOWN_LLAMA3_SCALINGS) {
            RopeScaling candidate = RopeScaling.llama3(c[0], c[1], c[2], (int) c[3]);
            double[] base = RopeScaling.NONE.inverseFrequencies(theta, headDim);
            double[] scaled = candidate.inverseFrequencies(theta, headDim);
            boolean matches = true;
            for (int i = 0; i < stored.length && matches; i++) {
                matches = Math.abs(base[i] / scaled[i] - stored[i]) <= 1e-3 * Math.max(1, stored[i]);
            }
            if (matches) {
                return candidate;
            }
        }
        throw error("rope_freqs.weight matches no known Llama 3 RoPE scaling (factor 8, 16 or 32, low 1, high 4, "
                + "original context 8192)");
    }

    private int required(String suffix) {
        return optional(suffix).orElseThrow(() -> error("missing metadata " + arch + "." + suffix));
    }

    private Optional<Integer> optional(String suffix) {
        String key = arch + "." + suffix;
        if (!file.metadata().contains(key)) {
            return Optional.empty();
        }
        OptionalLong value = file.metadata().getLong(key);
        if (value.isEmpty()) {
            throw error("metadata " + key + " must be an integer, is " + file.metadata().type(key).orElseThrow());
        }
        return Optional.of(toInt(key, value.getAsLong()));
    }

    private int toInt(String what, long value) {
        if (value < 0 || value > Integer.MAX_VALUE) {
            throw error(what + " is out of range: " + value);
        }
        return (int) value;
    }

    private ModelFormatException error(String problem) {
        return new ModelFormatException(file.path(), problem);
    }
}
