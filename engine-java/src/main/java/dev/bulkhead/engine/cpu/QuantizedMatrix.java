package dev.bulkhead.engine.cpu;

import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.Dequantizer;
import dev.bulkhead.model.tensor.WeightTensor;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Shared driver of the ggml block-quantized matrices, which multiply by {@link Q8Activations} with integer
 * dot products (as llama.cpp's {@code vec_dot_*_q8_*} do) instead of converting weights to floats.
 * Subclasses supply two kernels that must agree bit for bit: one row against one token and one row against
 * two tokens (the weights of a block decoded once for both).
 *
 * <p>NOTE: no wider kernels (four rows or four tokens): with four accumulator chains C2 stopped
 * intrinsifying part of the Vector API calls and boxed the vectors, four to six times slower than one
 * row (measured on AVX2, JDK 25). Two tokens still compile to plain SIMD code, and one row per token runs as
 * fast as two rows, so those are the kernels.
 *
 * <p>{@link #multiplyRows} quantizes the activations and multiplies; {@link WeightMatrices#parallelMultiply}
 * and {@link MatrixGroup} quantize once per product and share the result between threads and matrices,
 * through {@link #multiplyQuantized}. Both give the same bits: quantizing is per token and deterministic.
 * The result differs from a float product by the activations' rounding (at most half a step of each
 * block's scale), the price llama.cpp pays too.
 */
abstract sealed class QuantizedMatrix implements WeightMatrix permits Q8Matrix, Q4Matrix, Q4KMatrix, Q6KMatrix {

    /** Quantized activation bytes per token chunk: half of a typical 1 MiB L2. */
    private static final int TOKEN_CHUNK_BYTES = 512 * 1024;

    final MemorySegment data;
    final int rows;
    final int cols;
    final long rowBytes;
    /** Blocks of 32 values per row (activation blocks, whatever the weight block size). */
    final int blocks;
    private final DType dtype;
    private final int tokenChunk;

    QuantizedMatrix(WeightTensor t, DType expected) {
        if (t.dtype() != expected) {
            throw new IllegalArgumentException("tensor " + t.name() + " is " + t.dtype() + ", expected " + expected);
        }
        this.data = t.data();
        this.rows = t.rows();
        this.cols = t.cols();
        this.dtype = expected;
        this.rowBytes = expected.byteSize(cols);
        this.blocks = cols / Q8Activations.BLOCK;
        this.tokenChunk = Math.max(4, TOKEN_CHUNK_BYTES / Short.BYTES / cols / 4 * 4);
    }

    @Override
    public final int rows() {
        return rows;
    }

    @Override
    public final int cols() {
        return cols;
    }

    @Override
    public final DType dtype() {
        return dtype;
    }

    @Override
    public final void multiplyRows(float[] x, int tokens, float[] out, int rowStart, int rowEnd) {
        if (tokens < 1) {
            throw new IllegalArgumentException("tokens must be >= 1, got " + tokens);
        }
        Objects.checkFromIndexSize(0, (long) tokens * cols, x.length);
        multiplyQuantized(Q8Activations.quantize(x, tokens, cols), out, rowStart, rowEnd);
    }

    /**
     * {@code out[t * rows + r] = W[r] . a[t]} for r in [rowStart, rowEnd) and every token of {@code a}.
     * Each row is read from memory once per chunk of tokens whose activations fit in L2.
     */
    final void multiplyQuantized(Q8Activations a, float[] out, int rowStart, int rowEnd) {
        if (a.cols != cols) {
            throw new IllegalArgumentException("activations have " + a.cols + " columns, the matrix " + cols);
        }
        Objects.checkFromToIndex(rowStart, rowEnd, rows);
        int tokens = a.tokens;
        Objects.checkFromIndexSize(0, (long) tokens * rows, out.length);
        float[] lanes = new float[IntDot.FLOAT.length()]; // scratch of IntDot.sum
        if (tokens == 1) {
            for (int r = rowStart; r < rowEnd; r++) {
                out[r] = dot(r, a, 0, lanes);
            }
            return;
        }
        for (int t0 = 0; t0 < tokens; t0 += tokenChunk) {
            int t1 = Math.min(tokens, t0 + tokenChunk);
            for (int r = rowStart; r < rowEnd; r++) {
                int t = t0;
                for (; t + 2 <= t1; t += 2) {
                    dot2Tokens(r, a, t, out, t * rows + r, lanes);
                }
                for (; t < t1; t++) {
                    out[t * rows + r] = dot(r, a, t, lanes);
                }
            }
        }
    }

    /** {@code W[r] . a[t]}; {@code lanes} is scratch for {@link IntDot#sum}. */
    abstract float dot(int r, Q8Activations a, int t, float[] lanes);

    /**
     * {@code out[outOff] = W[r] . a[t]} and {@code out[outOff + rows] = W[r] . a[t + 1]}, each agreeing with
     * {@link #dot} bit for bit.
     */
    abstract void dot2Tokens(int r, Q8Activations a, int t, float[] out, int outOff, float[] lanes);

    /** The scalar oracle's values: an embedding lookup is one row per token, not worth a kernel. */
    @Override
    public final void dequantizeRow(int r, float[] dst, int off) {
        Objects.checkIndex(r, rows);
        Objects.checkFromIndexSize(off, cols, dst.length);
        Dequantizer.dequantize(dtype, data, rowOffset(r), dst, off, cols);
    }

    final long rowOffset(int r) {
        return r * rowBytes;
    }
}
