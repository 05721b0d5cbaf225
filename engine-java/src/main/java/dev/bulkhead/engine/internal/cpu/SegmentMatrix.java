package dev.bulkhead.engine.internal.cpu;

import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.WeightTensor;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Shared driver of the float matrices that read their weights straight from a (mapped) segment. Subclasses
 * supply dot-product kernels that must agree bit for bit: one row against four tokens, one row against one
 * token, and optionally two rows against four tokens.
 *
 * <p>Loop order: one token reads row after row. NOTE: for these memory-bound types four interleaved 3 KB row
 * streams halve the read rate the prefetcher sustains (measured with DecodeBench: stories110M F32 on 1
 * thread went from 29.5 to 50.7 tok/s with one row at a time).
 * Several tokens walk row by row and feed each row to the tokens four at a time, so a row comes from memory
 * once and from L1 for the next group. Tokens are taken in chunks whose activations fit in L2; only a
 * batch larger than one chunk (a long prefill, which is compute bound anyway) reads the weights again.
 */
abstract sealed class SegmentMatrix implements WeightMatrix
        permits F32Matrix, Bf16Matrix {

    /** Activation bytes per token chunk: half of a typical 1 MiB L2. */
    private static final int TOKEN_CHUNK_BYTES = 512 * 1024;

    final MemorySegment data;
    final int rows;
    final int cols;
    final long rowBytes;
    private final DType dtype;
    private final int tokenChunk;

    SegmentMatrix(WeightTensor t, DType expected) {
        if (t.dtype() != expected) {
            throw new IllegalArgumentException("tensor " + t.name() + " is " + t.dtype() + ", expected " + expected);
        }
        this.data = t.data();
        this.rows = t.rows();
        this.cols = t.cols();
        this.dtype = expected;
        this.rowBytes = expected.byteSize(cols);
        this.tokenChunk = tokenChunk(cols);
    }

    /** Tokens per chunk for rows of {@code cols} floats: a multiple of 4 whose activations fit in half of L2. */
    static int tokenChunk(int cols) {
        return Math.max(4, TOKEN_CHUNK_BYTES / Float.BYTES / cols / 4 * 4);
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
        Objects.checkFromToIndex(rowStart, rowEnd, rows);
        if (tokens < 1) {
            throw new IllegalArgumentException("tokens must be >= 1, got " + tokens);
        }
        Objects.checkFromIndexSize(0, (long) tokens * cols, x.length);
        Objects.checkFromIndexSize(0, (long) tokens * rows, out.length);
        if (tokens == 1) {
            for (int r = rowStart; r < rowEnd; r++) {
                out[r] = dot(r, x, 0);
            }
            return;
        }
        for (int t0 = 0; t0 < tokens; t0 += tokenChunk) {
            int t1 = Math.min(tokens, t0 + tokenChunk);
            int r = rowStart;
            if (hasTwoRowKernel()) {
                for (; r + 2 <= rowEnd; r += 2) {
                    int t = t0;
                    for (; t + 4 <= t1; t += 4) {
                        dot2Rows4Tokens(r, x, t * cols, out, t * rows + r);
                    }
                    for (; t < t1; t++) {
                        out[t * rows + r] = dot(r, x, t * cols);
                        out[t * rows + r + 1] = dot(r + 1, x, t * cols);
                    }
                }
            }
            for (; r < rowEnd; r++) {
                int t = t0;
                for (; t + 4 <= t1; t += 4) {
                    dot4Tokens(r, x, t * cols, out, t * rows + r);
                }
                for (; t < t1; t++) {
                    out[t * rows + r] = dot(r, x, t * cols);
                }
            }
        }
    }

    /** Whether {@link #dot2Rows4Tokens} is implemented (a 2 x 4 register tile for batched steps). */
    boolean hasTwoRowKernel() {
        return false;
    }

    /**
     * {@code out[outOff + i + j * rows] = W[r + i] . x[xOff + j * cols ..]} for i in 0..1 and j in 0..3: eight
     * accumulators, six loads per eight FMAs instead of five per four. Must agree with {@link #dot} bit for bit.
     */
    void dot2Rows4Tokens(int r, float[] x, int xOff, float[] out, int outOff) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no two-row kernel");
    }

    /**
     * {@code out[outOff + j * rows] = W[r] . x[xOff + j * cols ..]} for j in 0..3 (four consecutive tokens).
     */
    abstract void dot4Tokens(int r, float[] x, int xOff, float[] out, int outOff);

    /** {@code W[r] . x[xOff ..]}. */
    abstract float dot(int r, float[] x, int xOff);

    /** Bounds checks of {@link #dequantizeRow}. */
    final void checkRow(int r, float[] dst, int off) {
        Objects.checkIndex(r, rows);
        Objects.checkFromIndexSize(off, cols, dst.length);
    }

    final long rowOffset(int r) {
        return r * rowBytes;
    }
}
