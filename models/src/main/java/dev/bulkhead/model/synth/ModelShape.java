package dev.bulkhead.model.synth;

import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.config.RopeStyle;
import dev.bulkhead.model.safetensors.SafetensorsWriter.TensorSpec;
import dev.bulkhead.model.tensor.DType;
import java.util.ArrayList;
import java.util.List;

/**
 * The shape of a real (or test) model without its weights: a name used on the command line and the
 * {@link ModelConfig} a Hugging Face checkpoint of it would have. {@link #tensors(DType)} lists the tensors
 * transformers' {@code save_pretrained} would write for it.
 *
 * @param name   preset name, e.g. {@code llama-3.2-1b}
 * @param config the model's configuration (Hugging Face layout: {@link RopeStyle#NEOX})
 */
public record ModelShape(String name, ModelConfig config) {

    public ModelShape {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("shape name must be non-blank");
        }
        if (config == null) {
            throw new IllegalArgumentException("shape " + name + ": config must be set");
        }
        if (config.ropeStyle() != RopeStyle.NEOX) {
            throw new IllegalArgumentException("shape " + name + ": Hugging Face checkpoints use NEOX RoPE, got "
                    + config.ropeStyle());
        }
    }

    /** The config as it reads back from a checkpoint stored in {@code dtype}. */
    public ModelConfig config(DType dtype) {
        ModelConfig c = config;
        return new ModelConfig(c.family(), c.hiddenSize(), c.intermediateSize(), c.numLayers(), c.numHeads(),
                c.numKvHeads(), c.headDim(), c.vocabSize(), c.maxPositionEmbeddings(), c.rmsNormEps(), c.ropeTheta(),
                c.ropeScaling(), c.ropeStyle(), c.tieWordEmbeddings(), c.attentionBias(), c.qkNorm(),
                c.slidingWindow(), c.bosTokenId(), c.eosTokenIds(), dtype);
    }

    /**
     * Every tensor of the checkpoint, in model order, with Hugging Face names and shapes: Linear weights are
     * {@code [out, in]}; norms and biases are vectors; {@code lm_head.weight} only when embeddings are untied.
     */
    public List<TensorSpec> tensors(DType dtype) {
        ModelConfig c = config;
        long hidden = c.hiddenSize();
        long ffn = c.intermediateSize();
        List<TensorSpec> out = new ArrayList<>();
        out.add(new TensorSpec("model.embed_tokens.weight", dtype, new long[] {c.vocabSize(), hidden}));
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".";
            out.add(new TensorSpec(p + "input_layernorm.weight", dtype, new long[] {hidden}));
            out.add(new TensorSpec(p + "self_attn.q_proj.weight", dtype, new long[] {c.qDim(), hidden}));
            out.add(new TensorSpec(p + "self_attn.k_proj.weight", dtype, new long[] {c.kvDim(), hidden}));
            out.add(new TensorSpec(p + "self_attn.v_proj.weight", dtype, new long[] {c.kvDim(), hidden}));
            if (c.attentionBias()) {
                out.add(new TensorSpec(p + "self_attn.q_proj.bias", dtype, new long[] {c.qDim()}));
                out.add(new TensorSpec(p + "self_attn.k_proj.bias", dtype, new long[] {c.kvDim()}));
                out.add(new TensorSpec(p + "self_attn.v_proj.bias", dtype, new long[] {c.kvDim()}));
            }
            if (c.qkNorm()) {
                out.add(new TensorSpec(p + "self_attn.q_norm.weight", dtype, new long[] {c.headDim()}));
                out.add(new TensorSpec(p + "self_attn.k_norm.weight", dtype, new long[] {c.headDim()}));
            }
            out.add(new TensorSpec(p + "self_attn.o_proj.weight", dtype, new long[] {hidden, c.qDim()}));
            out.add(new TensorSpec(p + "post_attention_layernorm.weight", dtype, new long[] {hidden}));
            out.add(new TensorSpec(p + "mlp.gate_proj.weight", dtype, new long[] {ffn, hidden}));
            out.add(new TensorSpec(p + "mlp.up_proj.weight", dtype, new long[] {ffn, hidden}));
            out.add(new TensorSpec(p + "mlp.down_proj.weight", dtype, new long[] {hidden, ffn}));
        }
        out.add(new TensorSpec("model.norm.weight", dtype, new long[] {hidden}));
        if (!c.tieWordEmbeddings()) {
            out.add(new TensorSpec("lm_head.weight", dtype, new long[] {c.vocabSize(), hidden}));
        }
        return List.copyOf(out);
    }

    /** Number of stored parameters (tied embeddings counted once). */
    public long parameterCount() {
        return tensors(DType.F32).stream().mapToLong(TensorSpec::elementCount).sum();
    }

    /** Bytes of tensor data in {@code dtype}. */
    public long byteSize(DType dtype) {
        return tensors(dtype).stream().mapToLong(TensorSpec::byteSize).sum();
    }
}
