package dev.bulkhead.model.arch;

import dev.bulkhead.model.tensor.WeightTensor;

/**
 * The tensors of one decoder block, shapes as in transformers ({@code [out, in]} for projections).
 * Optional tensors are {@code null} when the family does not have them.
 *
 * @param inputNorm     (hidden) RMSNorm before attention
 * @param wq            (numHeads * headDim, hidden)
 * @param wk            (numKvHeads * headDim, hidden)
 * @param wv            (numKvHeads * headDim, hidden)
 * @param wo            (hidden, numHeads * headDim)
 * @param bq            (numHeads * headDim) q bias, Qwen2 only
 * @param bk            (numKvHeads * headDim) k bias, Qwen2 only
 * @param bv            (numKvHeads * headDim) v bias, Qwen2 only
 * @param qNorm         (headDim) per-head RMSNorm of q, Qwen3 only
 * @param kNorm         (headDim) per-head RMSNorm of k, Qwen3 only
 * @param postAttnNorm  (hidden) RMSNorm before the FFN
 * @param gate          (ffn, hidden)
 * @param up            (ffn, hidden)
 * @param down          (hidden, ffn)
 */
public record LayerWeights(
        WeightTensor inputNorm,
        WeightTensor wq, WeightTensor wk, WeightTensor wv, WeightTensor wo,
        WeightTensor bq, WeightTensor bk, WeightTensor bv,
        WeightTensor qNorm, WeightTensor kNorm,
        WeightTensor postAttnNorm,
        WeightTensor gate, WeightTensor up, WeightTensor down) {

    public boolean hasQkvBias() {
        return bq != null;
    }

    public boolean hasQkNorm() {
        return qNorm != null;
    }
}
