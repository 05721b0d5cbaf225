package dev.bulkhead.model.config;

import dev.bulkhead.model.tensor.DType;
import java.util.Arrays;

/**
 * Everything the forward pass needs to know about a decoder-only model, from config.json or GGUF metadata.
 *
 * @param family                 architecture family (Llama, Mistral, Qwen2, Qwen3)
 * @param hiddenSize             model width ({@code hidden_size}, llama2.c's dim)
 * @param intermediateSize       FFN width
 * @param numLayers              decoder blocks
 * @param numHeads               query heads
 * @param numKvHeads             key/value heads (GQA when smaller than numHeads)
 * @param headDim                width of one head (may differ from hiddenSize / numHeads, as in Qwen3)
 * @param vocabSize              rows of the embedding and the LM head
 * @param maxPositionEmbeddings  context length the model was trained for
 * @param rmsNormEps             epsilon of every RMSNorm
 * @param ropeTheta              RoPE base
 * @param ropeScaling            RoPE frequency scaling ({@link RopeScaling#NONE} when absent)
 * @param ropeStyle              which dimensions rotate together (depends on how the weights were laid out)
 * @param tieWordEmbeddings      LM head shares the embedding matrix
 * @param attentionBias          q/k/v projections have a bias (Qwen2)
 * @param qkNorm                 per-head RMSNorm of q and k before RoPE (Qwen3)
 * @param slidingWindow          attention window in tokens, 0 for full attention (Mistral v0.1)
 * @param bosTokenId             beginning-of-sequence id, -1 when the model has none
 * @param eosTokenIds            ids that end generation
 * @param dtype                  storage type of most weights, for reporting
 */
public record ModelConfig(
        ModelFamily family,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int vocabSize,
        int maxPositionEmbeddings,
        float rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        RopeStyle ropeStyle,
        boolean tieWordEmbeddings,
        boolean attentionBias,
        boolean qkNorm,
        int slidingWindow,
        int bosTokenId,
        int[] eosTokenIds,
        DType dtype) {

    public ModelConfig {
        if (family == null) {
            throw new IllegalArgumentException("family must be set");
        }
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numLayers);
        positive("num_attention_heads", numHeads);
        positive("num_key_value_heads", numKvHeads);
        positive("head_dim", headDim);
        positive("vocab_size", vocabSize);
        positive("max_position_embeddings", maxPositionEmbeddings);
        if (numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads (" + numHeads
                    + ") must be a multiple of num_key_value_heads (" + numKvHeads + ")");
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("head_dim must be even for RoPE, got " + headDim);
        }
        if (!(rmsNormEps > 0)) {
            throw new IllegalArgumentException("rms_norm_eps must be > 0, got " + rmsNormEps);
        }
        if (!(ropeTheta > 0)) {
            throw new IllegalArgumentException("rope_theta must be > 0, got " + ropeTheta);
        }
        if (slidingWindow < 0) {
            throw new IllegalArgumentException("sliding_window must be >= 0, got " + slidingWindow);
        }
        if (bosTokenId >= vocabSize) {
            throw new IllegalArgumentException("bos_token_id " + bosTokenId + " is past vocab_size " + vocabSize);
        }
        eosTokenIds = eosTokenIds == null ? new int[0] : eosTokenIds.clone();
        for (int eos : eosTokenIds) {
            if (eos < 0 || eos >= vocabSize) {
                throw new IllegalArgumentException("eos_token_id " + eos + " is outside [0, " + vocabSize + ")");
            }
        }
        ropeScaling = ropeScaling == null ? RopeScaling.NONE : ropeScaling;
        ropeStyle = ropeStyle == null ? RopeStyle.NEOX : ropeStyle;
        dtype = dtype == null ? DType.F32 : dtype;
    }

    private static void positive(String field, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(field + " must be > 0, got " + value);
        }
    }

    @Override
    public int[] eosTokenIds() {
        return eosTokenIds.clone();
    }

    public boolean isEos(int token) {
        for (int eos : eosTokenIds) {
            if (eos == token) {
                return true;
            }
        }
        return false;
    }

    /** Width of all query heads together. */
    public int qDim() {
        return numHeads * headDim;
    }

    /** Width of all key (or value) heads together. */
    public int kvDim() {
        return numKvHeads * headDim;
    }

    /** Query heads sharing one key/value head. */
    public int groupSize() {
        return numHeads / numKvHeads;
    }

    /** Bytes one token takes in the KV cache at the given element size (K and V, every layer). */
    public long kvBytesPerToken(int bytesPerElement) {
        return 2L * numLayers * kvDim() * bytesPerElement;
    }

    public ModelConfig withRopeStyle(RopeStyle style) {
        return new ModelConfig(family, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                vocabSize, maxPositionEmbeddings, rmsNormEps, ropeTheta, ropeScaling, style, tieWordEmbeddings,
                attentionBias, qkNorm, slidingWindow, bosTokenId, eosTokenIds, dtype);
    }

    public ModelConfig withTieWordEmbeddings(boolean tied) {
        return new ModelConfig(family, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                vocabSize, maxPositionEmbeddings, rmsNormEps, ropeTheta, ropeScaling, ropeStyle, tied,
                attentionBias, qkNorm, slidingWindow, bosTokenId, eosTokenIds, dtype);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelConfig c && family == c.family && hiddenSize == c.hiddenSize
                && intermediateSize == c.intermediateSize && numLayers == c.numLayers && numHeads == c.numHeads
                && numKvHeads == c.numKvHeads && headDim == c.headDim && vocabSize == c.vocabSize
                && maxPositionEmbeddings == c.maxPositionEmbeddings && rmsNormEps == c.rmsNormEps
                && ropeTheta == c.ropeTheta && ropeScaling.equals(c.ropeScaling) && ropeStyle == c.ropeStyle
                && tieWordEmbeddings == c.tieWordEmbeddings && attentionBias == c.attentionBias
                && qkNorm == c.qkNorm && slidingWindow == c.slidingWindow && bosTokenId == c.bosTokenId
                && Arrays.equals(eosTokenIds, c.eosTokenIds) && dtype == c.dtype;
    }

    @Override
    public int hashCode() {
        return family.hashCode() * 31 + hiddenSize * 17 + numLayers;
    }

    @Override
    public String toString() {
        return family.modelType() + "[hidden=" + hiddenSize + ", ffn=" + intermediateSize + ", layers=" + numLayers
                + ", heads=" + numHeads + "/" + numKvHeads + "x" + headDim + ", vocab=" + vocabSize
                + ", ctx=" + maxPositionEmbeddings + ", rope=" + ropeTheta + "/" + ropeScaling.type() + "/" + ropeStyle
                + (tieWordEmbeddings ? ", tied" : "") + (attentionBias ? ", qkv-bias" : "")
                + (qkNorm ? ", qk-norm" : "") + ", " + dtype + "]";
    }
}
