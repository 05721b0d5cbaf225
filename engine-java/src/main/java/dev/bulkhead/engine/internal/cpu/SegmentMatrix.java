package dev.bulkhead.engine.internal.cpu;

import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.WeightTensor;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Shared driver of the float matrices that read their weights straight from a (mapped) segment for one token
 * and convert two rows at a time to floats for four tokens or more ({@link FloatTiles}). Subclasses supply the
 * one-token kernel, which must sum as {@link Vectors#dot} does so that a token's result is the same bits in
 * either path, and the conversion.
 *
 * <p>Loop order: one token reads row after row. NOTE: for these memory-bound types four interleaved 3 KB row
 * streams halve the read rate the prefetcher sustains (measured with DecodeBench: stories110M F32 on 1
 * thread went from 29.5 to 50.7 tok/s with one row at a time).
 * Two or three tokens read each row once per token, the later ones from L1. From four tokens, rows are
 * converted in pairs and fed to the tokens four at a time; tokens are taken in chunks whose activations fit
 * in L2, so only a batch larger than one chunk (a long prefill, which is compute bound anyway) reads the
 * weights again.
 */
abstract sealed class SegmentMatrix implements WeightMatrix
        permits F32Matrix, Bf16Matrix {

    /** Tokens from which a product runs as {@link FloatTiles} (four make one tile). */
    private static final int TILE_MIN_TOKENS = 4;
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
        if (tokens < TILE_MIN_TOKENS) {
            for (int r = rowStart; r < rowEnd; r++) {
                for (int t = 0; t < tokens; t++) {
                    out[t * rows + r] = dot(r, x, t * cols);
                }
            }
            return;
        }
        FloatTiles.multiply(this::convertRow, rows, cols, tokenChunk, x, tokens, out, rowStart, rowEnd);
    }

    /** Writes row {@code r} as floats to {@code dst[off, off + cols)}; bounds already checked. */
    abstract void convertRow(int r, float[] dst, int off);

    /** {@code W[r] . x[xOff ..]}, summed as {@link Vectors#dot} sums it. */
    abstract float dot(int r, float[] x, int xOff);

    @Override
    public final void dequantizeRow(int r, float[] dst, int off) {
        Objects.checkIndex(r, rows);
        Objects.checkFromIndexSize(off, cols, dst.length);
        convertRow(r, dst, off);
    }

    final long rowOffset(int r) {
        return r * rowBytes;
    }
}
