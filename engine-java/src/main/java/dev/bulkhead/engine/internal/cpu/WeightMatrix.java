package dev.bulkhead.engine.internal.cpu;

import dev.bulkhead.model.tensor.DType;

/**
 * A weight matrix {@code [rows, cols]} (row-major, a Linear layer's {@code [out, in]}) in its storage type,
 * multiplied by float activations. One implementation per storage type; build them with
 * {@link WeightMatrices#of}.
 *
 * <p>Implementations are immutable and thread safe. For a given row and token the result is bit-identical
 * whatever the number of tokens in the call and whatever row range the row falls in, which is what makes
 * the CPU backend batch invariant.
 */
public interface WeightMatrix {

    /** Output features (the outer dimension). */
    int rows();

    /** Input features (the inner, contiguous dimension). */
    int cols();

    /** Storage type of the weights. */
    DType dtype();

    /**
     * {@code out[t * rows + r] = sum_c W[r, c] * x[t * cols + c]} for r in [rowStart, rowEnd) and t in [0, tokens).
     * Each weight row is read once for all tokens, which is what makes batching pay.
     */
    void multiplyRows(float[] x, int tokens, float[] out, int rowStart, int rowEnd);

    /** Writes row {@code r} as floats into {@code dst[off, off + cols)} (embedding lookup). */
    void dequantizeRow(int r, float[] dst, int off);
}
