package dev.bulkhead.engine.internal.runner;

import dev.bulkhead.engine.internal.cpu.MatrixGroup;
import dev.bulkhead.engine.internal.cpu.WeightMatrix;

/**
 * One decoder block in the CPU backend's runtime form: projections stay in their storage type (read
 * straight from the mapped file), small vectors are widened to float once at load.
 *
 * @param inputNorm    (hidden)
 * @param wq           (numHeads * headDim, hidden)
 * @param wk           (numKvHeads * headDim, hidden)
 * @param wv           (numKvHeads * headDim, hidden)
 * @param wo           (hidden, numHeads * headDim)
 * @param bq           (numHeads * headDim) or null
 * @param bk           (numKvHeads * headDim) or null
 * @param bv           (numKvHeads * headDim) or null
 * @param qNorm        (headDim) or null
 * @param kNorm        (headDim) or null
 * @param postAttnNorm (hidden)
 * @param gate         (ffn, hidden)
 * @param up           (ffn, hidden)
 * @param down         (hidden, ffn)
 * @param qkv          wq, wk and wv multiplied in one parallel pass
 * @param gateUp       gate and up multiplied in one parallel pass
 */
record CpuLayer(float[] inputNorm, WeightMatrix wq, WeightMatrix wk, WeightMatrix wv, WeightMatrix wo,
                float[] bq, float[] bk, float[] bv, float[] qNorm, float[] kNorm, float[] postAttnNorm,
                WeightMatrix gate, WeightMatrix up, WeightMatrix down, MatrixGroup qkv, MatrixGroup gateUp) {

    CpuLayer(float[] inputNorm, WeightMatrix wq, WeightMatrix wk, WeightMatrix wv, WeightMatrix wo,
             float[] bq, float[] bk, float[] bv, float[] qNorm, float[] kNorm, float[] postAttnNorm,
             WeightMatrix gate, WeightMatrix up, WeightMatrix down) {
        this(inputNorm, wq, wk, wv, wo, bq, bk, bv, qNorm, kNorm, postAttnNorm, gate, up, down,
                new MatrixGroup(wq, wk, wv), new MatrixGroup(gate, up));
    }
}
