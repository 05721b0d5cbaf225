package dev.bulkhead.engine.internal.cpu;

import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.Dequantizer;
import dev.bulkhead.model.tensor.WeightTensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Objects;
import jdk.incubator.vector.FloatVector;

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

    /**
     * The fewest tokens from which any type runs a product as float tiles ({@link #multiplyTiles}) rather
     * than integer kernels, and so from which {@link Q8Activations} keeps a lane-ordered copy.
     */
    static final int TILE_MIN_TOKENS = 4;

    /** Quantized activation bytes per token chunk: half of a typical 1 MiB L2. */
    private static final int TOKEN_CHUNK_BYTES = 512 * 1024;

    final MemorySegment data;
    /**
     * The weights in the kernels' layout, made once at load, for a type that keeps such a copy (its class comment
     * gives the regions); {@code null} for a type read in place.
     */
    final MemorySegment packed;
    final int rows;
    final int cols;
    final long rowBytes;
    /** Blocks of 32 values per row (activation blocks, whatever the weight block size). */
    final int blocks;
    private final DType dtype;
    private final int tokenChunk;

    /** A matrix read in place. */
    QuantizedMatrix(WeightTensor t, DType expected) {
        this(t, expected, null, 0);
    }

    /**
     * A matrix whose kernels read a copy of {@code packedBytes} bytes, allocated in {@code copies} and filled by the
     * subclass's constructor.
     */
    QuantizedMatrix(WeightTensor t, DType expected, Arena copies, long packedBytes) {
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
        this.packed = copies == null ? null : copies.allocate(packedBytes, 64);
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
        if (a.laneOrdered != null && tokens >= tileMinTokens()) {
            multiplyTiles(a, out, rowStart, rowEnd);
            return;
        }
        if (tokens == 1) {
            for (int r = rowStart; r < rowEnd; r++) {
                out[r] = dot(r, a, 0);
            }
            return;
        }
        for (int t0 = 0; t0 < tokens; t0 += tokenChunk) {
            int t1 = Math.min(tokens, t0 + tokenChunk);
            for (int r = rowStart; r < rowEnd; r++) {
                int t = t0;
                for (; t + 2 <= t1; t += 2) {
                    dot2Tokens(r, a, t, out, t * rows + r);
                }
                for (; t < t1; t++) {
                    out[t * rows + r] = dot(r, a, t);
                }
            }
        }
    }

    /**
     * The same products as the integer kernels, bit for bit, as float tiles of two rows by two tokens: each
     * row pair unpacked once per chunk of tokens into integer-valued floats in the kernels' lane order
     * ({@link IntDot#storeLaneOrdered}) with its per-block factors ({@link #unpackRow}), then multiplied by the activations' lane-ordered
     * copy with FMAs. Per block and lane the FMAs add the same integers the kernels add in 32-bit lanes (at
     * most 8 products below 2^19 each, so every partial sum is exact in float), and the block's FMA into the
     * accumulator, the minimums and the lane tree are the kernels' own, so the bits agree and the CPU
     * backend stays batch invariant across the switch between the two paths.
     *
     * <p>NOTE: the point is register reuse that the integer kernels cannot get: C2 boxes their vectors beyond
     * two accumulator chains, and every weight must be decoded again per pair of tokens. Here a weight
     * vector serves two tokens and an activation vector two rows, with nothing left to decode.
     */
    private void multiplyTiles(Q8Activations a, float[] out, int rowStart, int rowEnd) {
        int tokens = a.tokens;
        int chunk = Math.max(2, TOKEN_CHUNK_BYTES / Float.BYTES / cols / 2 * 2);
        float[] w = new float[2 * cols];
        float[] factor = new float[2 * blocks];
        float[] min = new float[2 * blocks];
        float[] sumsByBlock = hasMinimums() ? new float[blocks * Math.min(chunk, tokens)] : null;
        float[] lanes = new float[IntDot.FL];
        for (int t0 = 0; t0 < tokens; t0 += chunk) {
            int t1 = Math.min(tokens, t0 + chunk);
            if (sumsByBlock != null) {
                transposeScaledSums(a, t0, t1, sumsByBlock);
            }
            int r = rowStart;
            for (; r + 2 <= rowEnd; r += 2) {
                unpackRow(r, w, 0, factor, min, 0);
                unpackRow(r + 1, w, cols, factor, min, blocks);
                int t = t0;
                for (; t + 2 <= t1; t += 2) {
                    tile2x2(w, factor, a, t, out, r);
                }
                for (; t < t1; t++) {
                    out[t * rows + r] = tile1x1(w, 0, factor, min, 0, a, t);
                    out[t * rows + r + 1] = tile1x1(w, cols, factor, min, blocks, a, t);
                }
                if (hasMinimums()) {
                    subtractMinimums(min, sumsByBlock, t1 - t0, a, t0, (t1 - t0) / 2 * 2 + t0, out, r, lanes);
                }
            }
            if (r < rowEnd) {
                unpackRow(r, w, 0, factor, min, 0);
                for (int t = t0; t < t1; t++) {
                    out[t * rows + r] = tile1x1(w, 0, factor, min, 0, a, t);
                }
            }
        }
    }

    /**
     * Rows {@code w[0, cols)} and {@code w[cols, 2 cols)} times tokens t and t + 1, into {@code out} without
     * the minimums (added by {@link #subtractMinimums}).
     */
    private void tile2x2(float[] w, float[] factor, Q8Activations a, int t, float[] out, int r) {
        float[] xq = a.laneOrdered;
        float[] s = a.scale;
        int x0 = t * cols;
        int x1 = x0 + cols;
        int s0 = t * blocks;
        int s1 = s0 + blocks;
        FloatVector acc00 = FloatVector.zero(IntDot.FLOAT); // row r, token t
        FloatVector acc01 = acc00;                           // row r, token t + 1
        FloatVector acc10 = acc00;                           // row r + 1, token t
        FloatVector acc11 = acc00;                           // row r + 1, token t + 1
        for (int k = 0; k < blocks; k++) {
            int c = k * Q8Activations.BLOCK;
            FloatVector w0 = FloatVector.fromArray(IntDot.FLOAT, w, c);
            FloatVector w1 = FloatVector.fromArray(IntDot.FLOAT, w, cols + c);
            FloatVector v0 = FloatVector.fromArray(IntDot.FLOAT, xq, x0 + c);
            FloatVector v1 = FloatVector.fromArray(IntDot.FLOAT, xq, x1 + c);
            FloatVector p00 = w0.mul(v0);
            FloatVector p01 = w0.mul(v1);
            FloatVector p10 = w1.mul(v0);
            FloatVector p11 = w1.mul(v1);
            for (int j = IntDot.FL; j < Q8Activations.BLOCK; j += IntDot.FL) {
                w0 = FloatVector.fromArray(IntDot.FLOAT, w, c + j);
                w1 = FloatVector.fromArray(IntDot.FLOAT, w, cols + c + j);
                v0 = FloatVector.fromArray(IntDot.FLOAT, xq, x0 + c + j);
                v1 = FloatVector.fromArray(IntDot.FLOAT, xq, x1 + c + j);
                p00 = w0.fma(v0, p00);
                p01 = w0.fma(v1, p01);
                p10 = w1.fma(v0, p10);
                p11 = w1.fma(v1, p11);
            }
            float f0 = factor[k];
            float f1 = factor[blocks + k];
            acc00 = p00.fma(FloatVector.broadcast(IntDot.FLOAT, f0 * s[s0 + k]), acc00);
            acc01 = p01.fma(FloatVector.broadcast(IntDot.FLOAT, f0 * s[s1 + k]), acc01);
            acc10 = p10.fma(FloatVector.broadcast(IntDot.FLOAT, f1 * s[s0 + k]), acc10);
            acc11 = p11.fma(FloatVector.broadcast(IntDot.FLOAT, f1 * s[s1 + k]), acc11);
        }
        out[t * rows + r] = IntDot.sum(acc00);
        out[(t + 1) * rows + r] = IntDot.sum(acc01);
        out[t * rows + r + 1] = IntDot.sum(acc10);
        out[(t + 1) * rows + r + 1] = IntDot.sum(acc11);
    }

    /** One unpacked row (at {@code w[wOff]}, factors at {@code fOff}) times token t, minimums included. */
    private float tile1x1(float[] w, int wOff, float[] factor, float[] min, int fOff, Q8Activations a, int t) {
        float[] xq = a.laneOrdered;
        int x0 = t * cols;
        int s0 = t * blocks;
        FloatVector acc = FloatVector.zero(IntDot.FLOAT);
        for (int k = 0; k < blocks; k++) {
            int c = k * Q8Activations.BLOCK;
            FloatVector p = FloatVector.fromArray(IntDot.FLOAT, w, wOff + c)
                    .mul(FloatVector.fromArray(IntDot.FLOAT, xq, x0 + c));
            for (int j = IntDot.FL; j < Q8Activations.BLOCK; j += IntDot.FL) {
                p = FloatVector.fromArray(IntDot.FLOAT, w, wOff + c + j)
                        .fma(FloatVector.fromArray(IntDot.FLOAT, xq, x0 + c + j), p);
            }
            acc = p.fma(FloatVector.broadcast(IntDot.FLOAT, factor[fOff + k] * a.scale[s0 + k]), acc);
        }
        float sum = IntDot.sum(acc);
        return hasMinimums() ? sum - minimums(min, fOff, a, t) : sum;
    }

    /**
     * {@code byBlock[k * n + (t - t0)] = a.scaledSum[t * blocks + k]} for the tokens [t0, t1) of a chunk,
     * {@code n = t1 - t0}: each block's scaled sums of consecutive tokens side by side, for
     * {@link #subtractMinimums} to load as vectors.
     */
    private void transposeScaledSums(Q8Activations a, int t0, int t1, float[] byBlock) {
        int n = t1 - t0;
        for (int t = t0; t < t1; t++) {
            int s0 = t * blocks;
            for (int k = 0; k < blocks; k++) {
                byBlock[k * n + (t - t0)] = a.scaledSum[s0 + k];
            }
        }
    }

    /**
     * Takes the minimums' part off the 2 x 2 tiles' results of rows r, r + 1 and tokens [t0, t1), whose
     * scaled sums {@code byBlock} holds for the {@code n} tokens from t0 on ({@link #transposeScaledSums});
     * {@code lanes} is scratch of {@link IntDot#FL} floats.
     * NOTE: a vector lane per token, each lane adding {@code min * sum} block by block in order from 0, the
     * steps and roundings of {@link #minimums} (a multiply then an add, no FMA): the same bits for every token,
     * at one vector multiply and add per block for {@link IntDot#FL} tokens instead of one per token. Scalar,
     * they took a fifth of the Q4_K tiles' JFR samples at 128 tokens; as vectors, under a tenth.
     */
    private void subtractMinimums(float[] min, float[] byBlock, int n, Q8Activations a, int t0, int t1, float[] out,
                                  int r, float[] lanes) {
        int t = t0;
        for (; t + IntDot.FL <= t1; t += IntDot.FL) {
            int col = t - t0;
            FloatVector m0 = FloatVector.zero(IntDot.FLOAT);
            FloatVector m1 = m0;
            for (int k = 0; k < blocks; k++) {
                FloatVector sums = FloatVector.fromArray(IntDot.FLOAT, byBlock, k * n + col);
                m0 = m0.add(sums.mul(min[k]));
                m1 = m1.add(sums.mul(min[blocks + k]));
            }
            m0.intoArray(lanes, 0);
            for (int i = 0; i < IntDot.FL; i++) {
                out[(t + i) * rows + r] -= lanes[i];
            }
            m1.intoArray(lanes, 0);
            for (int i = 0; i < IntDot.FL; i++) {
                out[(t + i) * rows + r + 1] -= lanes[i];
            }
        }
        for (; t < t1; t++) {
            out[t * rows + r] -= minimums(min, 0, a, t);
            out[t * rows + r + 1] -= minimums(min, blocks, a, t);
        }
    }

    /** The kernels' scalar sum of {@code min factor * scaled block sum}, block by block in order. */
    private float minimums(float[] min, int fOff, Q8Activations a, int t) {
        float m = 0f;
        int s0 = t * blocks;
        for (int k = 0; k < blocks; k++) {
            m += min[fOff + k] * a.scaledSum[s0 + k];
        }
        return m;
    }

    /**
     * Rows [r0, r1) dequantized to floats (in native byte order at {@code dst[dstOff ..]}, one row after the
     * other) with each block's values in the lane order of {@link IntDot#laneOrder}: the float tile
     * {@link BlasGemm} hands to BLAS, whose activations are put in the same order. Value j of block k is
     * {@code factor[k] * q[j] - min[k]} ({@link #unpackRow}'s factors), which is the scalar dequantizer's value
     * up to the rounding of that one product and difference.
     * NOTE: lane order because {@link #unpackRow} is the vectorized decoder every type already has; putting
     * the activations in its order costs one pass over them per product instead of one per weight row.
     */
    final void widenRowsLaneOrdered(int r0, int r1, MemorySegment dst, long dstOff) {
        float[] w = new float[cols];
        float[] factor = new float[blocks];
        float[] min = new float[blocks];
        long d = dstOff;
        for (int r = r0; r < r1; r++) {
            unpackRow(r, w, 0, factor, min, 0);
            for (int k = 0; k < blocks; k++) {
                FloatVector f = FloatVector.broadcast(IntDot.FLOAT, factor[k]);
                FloatVector m = FloatVector.broadcast(IntDot.FLOAT, hasMinimums() ? min[k] : 0f);
                for (int c = k * Q8Activations.BLOCK; c < (k + 1) * Q8Activations.BLOCK; c += IntDot.FL) {
                    FloatVector.fromArray(IntDot.FLOAT, w, c).mul(f).sub(m)
                            .intoMemorySegment(dst, d + 4L * c, ByteOrder.nativeOrder());
                }
            }
            d += 4L * cols;
        }
    }

    /**
     * Row r as the integers the kernels multiply, as floats at {@code w[wOff ..]}, each block in
     * the kernels' lane order ({@link IntDot#storeLaneOrdered}), and per
     * activation block k the factor the kernels multiply its scale by at {@code factor[fOff + k]} and, where
     * {@link #hasMinimums}, the factor of its scaled sum at {@code min[fOff + k]}.
     */
    abstract void unpackRow(int r, float[] w, int wOff, float[] factor, float[] min, int fOff);

    /**
     * Tokens from which the float tiles beat the integer kernels: unpacking a row costs a few tokens' worth
     * of integer products, repaid over the tokens it serves. 8 for Q8_0, Q4_0 and Q4_K, measured on AVX2
     * (1024 x 768, one thread: at 4 tokens the integer kernels are 15-40% faster, at 8 the tiles 2-30%).
     */
    int tileMinTokens() {
        return 8;
    }

    /** Bytes this matrix allocated off the heap: its copy in the kernels' layout, 0 for a type read in place. */
    final long hostBytes() {
        return packed == null ? 0 : packed.byteSize();
    }

    /** Whether the type subtracts a per-block minimum (Q4_K), whose factors {@link #unpackRow} fills. */
    boolean hasMinimums() {
        return false;
    }

    /** {@code W[r] . a[t]}. */
    abstract float dot(int r, Q8Activations a, int t);

    /**
     * {@code out[outOff] = W[r] . a[t]} and {@code out[outOff + rows] = W[r] . a[t + 1]}, each agreeing with
     * {@link #dot} bit for bit.
     */
    abstract void dot2Tokens(int r, Q8Activations a, int t, float[] out, int outOff);

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
