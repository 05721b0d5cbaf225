package dev.bulkhead.engine.cpu;

import dev.bulkhead.model.tensor.DType;

/**
 * A weight matrix {@code [rows, cols]} (row-major, a Linear layer's {@code [out, in]}) in its storage type,
 * multiplied by float activations. One implementation per storage type.
 */
public interface WeightMatrix {

    int rows();

    int cols();

    DType dtype();

    /**
     * {@code out[t * rows + r] = sum_c W[r, c] * x[t * cols + c]} for r in [rowStart, rowEnd) and t in [0, tokens).
     * Each weight row is read once for all tokens, which is what makes batching pay.
     */
    void multiplyRows(float[] x, int tokens, float[] out, int rowStart, int rowEnd);

    /** Writes row {@code r} as floats into {@code dst[off, off + cols)} (embedding lookup). */
    void dequantizeRow(int r, float[] dst, int off);
}
