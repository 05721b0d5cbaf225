package dev.bulkhead.model.arch;

import dev.bulkhead.model.ModelFormatException;
import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.config.ModelFamily;
import dev.bulkhead.model.tensor.WeightSource;
import dev.bulkhead.model.tensor.WeightTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The Llama decoder block that every supported family shares: pre-norm attention with RoPE and GQA, then a
 * SwiGLU FFN. Families override the few hooks where their weights differ ({@link #qkvBias}, {@link #qkNorm}),
 * the way Jlama's per-architecture packages override a shared base. Binding checks every tensor's shape
 * against the config so a mismatched checkpoint fails at load, naming the tensor.
 */
public abstract class DecoderArchitecture {

    /** The architecture for a family. */
    public static DecoderArchitecture of(ModelFamily family) {
        return switch (family) {
            case LLAMA -> new LlamaArchitecture();
            case MISTRAL -> new MistralArchitecture();
            case QWEN2 -> new Qwen2Architecture();
            case QWEN3 -> new Qwen3Architecture();
        };
    }

    /** The family this class binds. */
    public abstract ModelFamily family();

    /** Whether q/k/v projections carry a bias in this family (may depend on the config). */
    protected boolean qkvBias(ModelConfig config) {
        return config.attentionBias();
    }

    /** Whether this family normalizes each q and k head before RoPE. */
    protected boolean qkNorm(ModelConfig config) {
        return false;
    }

    /** Binds and shape-checks every tensor the forward pass will read. */
    public ModelWeights bind(ModelConfig config, WeightSource source) {
        if (config.family() != family()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " cannot bind a " + config.family() + " config");
        }
        int hidden = config.hiddenSize();
        WeightTensor embed = expect(source, "model.embed_tokens.weight", config.vocabSize(), hidden);
        WeightTensor lmHead = config.tieWordEmbeddings()
                ? source.find("lm_head.weight").orElse(embed)
                : expect(source, "lm_head.weight", config.vocabSize(), hidden);
        if (lmHead != embed) {
            checkShape(source, lmHead, config.vocabSize(), hidden);
        }
        List<LayerWeights> layers = new ArrayList<>(config.numLayers());
        for (int i = 0; i < config.numLayers(); i++) {
            layers.add(layer(config, source, "model.layers." + i + "."));
        }
        WeightTensor norm = expect(source, "model.norm.weight", hidden);
        return new ModelWeights(config, embed, layers, norm, lmHead);
    }

    private LayerWeights layer(ModelConfig c, WeightSource s, String p) {
        int hidden = c.hiddenSize();
        boolean bias = qkvBias(c);
        boolean norm = qkNorm(c);
        return new LayerWeights(
                expect(s, p + "input_layernorm.weight", hidden),
                expect(s, p + "self_attn.q_proj.weight", c.qDim(), hidden),
                expect(s, p + "self_attn.k_proj.weight", c.kvDim(), hidden),
                expect(s, p + "self_attn.v_proj.weight", c.kvDim(), hidden),
                expect(s, p + "self_attn.o_proj.weight", hidden, c.qDim()),
                bias ? expect(s, p + "self_attn.q_proj.bias", c.qDim()) : null,
                bias ? expect(s, p + "self_attn.k_proj.bias", c.kvDim()) : null,
                bias ? expect(s, p + "self_attn.v_proj.bias", c.kvDim()) : null,
                norm ? expect(s, p + "self_attn.q_norm.weight", c.headDim()) : null,
                norm ? expect(s, p + "self_attn.k_norm.weight", c.headDim()) : null,
                expect(s, p + "post_attention_layernorm.weight", hidden),
                expect(s, p + "mlp.gate_proj.weight", c.intermediateSize(), hidden),
                expect(s, p + "mlp.up_proj.weight", c.intermediateSize(), hidden),
                expect(s, p + "mlp.down_proj.weight", hidden, c.intermediateSize()));
    }

    /** Fetches a tensor and checks its shape; norms and biases are stored as vectors. */
    protected static WeightTensor expect(WeightSource source, String name, long... shape) {
        WeightTensor t = source.get(name);
        checkShape(source, t, shape);
        return t;
    }

    private static void checkShape(WeightSource source, WeightTensor t, long... shape) {
        if (!Arrays.equals(t.shape(), shape)) {
            throw new ModelFormatException(source.origin(), "tensor " + t.name() + " has shape "
                    + Arrays.toString(t.shape()) + " but the config needs " + Arrays.toString(shape));
        }
        if (shape.length == 1 && t.dtype().isQuantized()) {
            throw new ModelFormatException(source.origin(), "tensor " + t.name() + " is a vector stored as "
                    + t.dtype() + "; norms and biases must be F32, F16 or BF16");
        }
    }
}
