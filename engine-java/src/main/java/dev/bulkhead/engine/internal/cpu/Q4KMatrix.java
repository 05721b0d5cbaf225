package dev.bulkhead.engine.internal.cpu;

import static dev.bulkhead.engine.internal.cpu.IntDot.FLOAT;
import static dev.bulkhead.engine.internal.cpu.IntDot.SL;

import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.WeightTensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * ggml Q4_K times {@link Q8Activations}. A super-block of 256 values is f16 {@code d}, f16 {@code dmin},
 * twelve bytes of eight 6-bit (scale, min) pairs and 128 bytes of nibbles; value i of sub-block j (32
 * values) is {@code d * scale_j * nibble - dmin * min_j}. Sub-block j lines up with one activation block, so
 * its dot product is {@code d * scale_j * d_x * sum(nibble * q) - dmin * min_j * d_x * sum(q)}: an exact
 * integer sum per sub-block into the float accumulator, and the minimum's part from the activations' block
 * sums, added up in a scalar beside it.
 *
 * <p>The kernels do not read the file's layout: at load every super-block is repacked ({@link #repack}) into
 * two regions of one off-heap segment, each indexed linearly by the 32-value block {@code k} of a row: the
 * nibbles as the file has them, super-block after super-block ({@code cols / 2} bytes a row), and per block its
 * {@code d * scale} and {@code dmin * min} as two floats. NOTE: read in place, the kernels ran at 0.75x of Q4_0's
 * speed with a side table of the scale bytes: per pair of blocks they converted four bytes to floats, multiplied
 * them by {@code d} and {@code dmin}, and recomputed the nibbles' address ({@code k / 8} super-blocks of 144
 * bytes in), with a bounds check per load that C2 could not hoist, about a hundred instructions where the
 * products take forty (seen in {@code -XX:+PrintAssembly}). The float products are the ones the kernels made
 * ({@code d * scale}, then times the activation scale), so the bits are the same. The price is memory: 192 bytes
 * per 256 values where the file has 144, beside the mapped file, whose pages the repack reads once (llama.cpp
 * makes the same trade on AVX2, copying Q4_K into its interleaved layout at load).
 *
 * <p>NOTE: unsigned nibbles times |q| <= 127, at most four per 16-bit lane: 7620 < 2^15.
 */
final class Q4KMatrix extends QuantizedMatrix {

    private static final int SUPER_BYTES = 144;
    private static final int SUPER_VALUES = 256;
    private static final ValueLayout.OfFloat FLOAT_LE = Vectors.FLOAT_LE;

    private final int superBlocks;
    /**
     * Where {@link #packed} holds, per block {@code k} of a row, its {@code d * scale} and {@code dmin * min} as two
     * floats: after the nibbles ({@code cols / 2} bytes a row, block pair m at {@code 32 m}).
     */
    private final long factorBase;

    /** @param copies where the repacked copy is allocated */
    Q4KMatrix(WeightTensor t, Arena copies) {
        super(t, DType.Q4_K, copies, packedBytes(t.rows(), t.cols()));
        this.superBlocks = cols / SUPER_VALUES;
        this.factorBase = (long) rows * cols / 2;
        for (int r = 0; r < rows; r++) {
            repack(r);
        }
    }

    /** Bytes of the repacked copy of a {@code rows x cols} matrix: 192 per 256 values. */
    static long packedBytes(int rows, int cols) {
        long values = (long) rows * cols;
        return values / 2 + values / Q8Activations.BLOCK * 2 * Float.BYTES;
    }

    /** Row r from the file's layout into {@link #packed}. */
    private void repack(int r) {
        long row = rowOffset(r);
        long f = factorRow(r);
        for (int sb = 0; sb < superBlocks; sb++) {
            long b = row + (long) sb * SUPER_BYTES;
            float d = IntDot.half(data, b);
            float dmin = IntDot.half(data, b + 2);
            long lo = data.get(IntDot.LONG_LE, b + 4);
            int hi = data.get(IntDot.INT_LE, b + 12);
            for (int j = 0; j < 8; j++) {
                long pair = f + 2L * Float.BYTES * (8L * sb + j);
                packed.set(FLOAT_LE, pair, d * scaleOf(lo, hi, j));
                packed.set(FLOAT_LE, pair + Float.BYTES, dmin * minOf(lo, hi, j));
            }
            MemorySegment.copy(data, b + 16, packed, nibbleRow(r) + 128L * sb, 128);
        }
    }

    /** Offset in {@link #packed} of row r's first nibble byte. */
    private long nibbleRow(int r) {
        return (long) r * cols / 2;
    }

    /** Offset in {@link #packed} of row r's first factor. */
    private long factorRow(int r) {
        return factorBase + 2L * Float.BYTES * r * blocks;
    }

    /** {@code d * scale} of block k of the row whose factors start at {@code f}. */
    private float scaleFactor(long f, int k) {
        return packed.get(FLOAT_LE, f + 2L * Float.BYTES * k);
    }

    /** {@code dmin * min} of block k, as {@link #scaleFactor}. */
    private float minFactor(long f, int k) {
        return packed.get(FLOAT_LE, f + 2L * Float.BYTES * k + Float.BYTES);
    }

    /**
     * 6-bit scale of sub-block j (0..7) from the twelve scale bytes ({@code lo} = bytes 0..7, {@code hi} =
     * bytes 8..11), ggml's {@code get_scale_min_k4}.
     */
    static int scaleOf(long lo, int hi, int j) {
        if (j < 4) {
            return (int) (lo >>> (8 * j)) & 63;
        }
        return (hi >>> (8 * (j - 4))) & 0x0F | ((int) (lo >>> (8 * (j - 4))) & 0xC0) >>> 2;
    }

    /** 6-bit min of sub-block j (0..7), as {@link #scaleOf}. */
    static int minOf(long lo, int hi, int j) {
        if (j < 4) {
            return (int) (lo >>> (8 * (j + 4))) & 63;
        }
        return ((hi >>> (8 * (j - 4))) & 0xF0) >>> 4 | ((int) (lo >>> (8 * j)) & 0xC0) >>> 2;
    }

    /**
     * The nibbles that start {@code shift} bits up each byte (0: low, 4: high). NOTE: a shift by a variable count instead of a
     * branch, so no vector flows through a control-flow merge (where C2 may box it).
     */
    private static ShortVector nibbles(ShortVector packed, int shift) {
        return packed.lanewise(VectorOperators.LSHR, shift).and((short) 0x0F);
    }

    /**
     * NOTE: blocks 2m and 2m + 1 are the low and high nibbles of the same 32 bytes, so this kernel loads each byte
     * once for both and folds them into the accumulator one after the other, in block order: the same integers
     * and FMAs as {@link #dot2Tokens}, which keeps one block at a time because its two token chains already hold
     * twice the registers. One loop over the row's blocks, not one per super-block with one over its blocks
     * inside: C2 then checks the bounds once before it.
     */
    @Override
    float dot(int r, Q8Activations a, int t) {
        long row = nibbleRow(r);
        long f = factorRow(r);
        short[] q = a.q;
        float[] s = a.scale;
        float[] ss = a.scaledSum;
        int qOff = t * cols;
        int sOff = t * blocks;
        FloatVector acc = FloatVector.zero(FLOAT);
        float mins = 0f;
        for (int k = 0; k < blocks; k += 2) {
            long qs = row + 16L * k;
            int c = qOff + 32 * k;
            // NOTE: the sums start from the first bytes' products, not from zero vectors that C2 would add.
            ShortVector first = IntDot.unsignedBytes(packed, qs);
            ShortVector low = first.and((short) 0x0F).mul(IntDot.act(q, c));
            ShortVector high = first.lanewise(VectorOperators.LSHR, 4).mul(IntDot.act(q, c + 32));
            for (int l = SL; l < 32; l += SL) {
                ShortVector bytes = IntDot.unsignedBytes(packed, qs + l);
                low = low.add(bytes.and((short) 0x0F).mul(IntDot.act(q, c + l)));
                high = high.add(bytes.lanewise(VectorOperators.LSHR, 4).mul(IntDot.act(q, c + 32 + l)));
            }
            int blk = sOff + k;
            acc = IntDot.accumulate(IntDot.narrowPairSums(low), scaleFactor(f, k) * s[blk], acc);
            mins += minFactor(f, k) * ss[blk];
            acc = IntDot.accumulate(IntDot.narrowPairSums(high), scaleFactor(f, k + 1) * s[blk + 1], acc);
            mins += minFactor(f, k + 1) * ss[blk + 1];
        }
        return IntDot.sum(acc) - mins;
    }

    @Override
    void dot2Tokens(int r, Q8Activations a, int t, float[] out, int outOff) {
        long row = nibbleRow(r);
        long f = factorRow(r);
        short[] q = a.q;
        float[] s = a.scale;
        float[] ss = a.scaledSum;
        int q0 = t * cols;
        int q1 = q0 + cols;
        int s0 = t * blocks;
        int s1 = s0 + blocks;
        FloatVector acc0 = FloatVector.zero(FLOAT);
        FloatVector acc1 = FloatVector.zero(FLOAT);
        float m0 = 0f;
        float m1 = 0f;
        for (int k = 0; k < blocks; k++) {
            long qs = row + 16L * (k & ~1);
            int shift = 4 * (k & 1);
            int c = 32 * k;
            ShortVector p0 = ShortVector.zero(IntDot.SHORT);
            ShortVector p1 = ShortVector.zero(IntDot.SHORT);
            for (int l = 0; l < 32; l += SL) {
                ShortVector w = nibbles(IntDot.bytes(packed, qs + l), shift);
                p0 = p0.add(w.mul(IntDot.act(q, q0 + c + l)));
                p1 = p1.add(w.mul(IntDot.act(q, q1 + c + l)));
            }
            float fs = scaleFactor(f, k);
            float fm = minFactor(f, k);
            acc0 = IntDot.accumulate(IntDot.narrowPairSums(p0), fs * s[s0 + k], acc0);
            acc1 = IntDot.accumulate(IntDot.narrowPairSums(p1), fs * s[s1 + k], acc1);
            m0 += fm * ss[s0 + k];
            m1 += fm * ss[s1 + k];
        }
        out[outOff] = IntDot.sum(acc0) - m0;
        out[outOff + rows] = IntDot.sum(acc1) - m1;
    }

    @Override
    void unpackRow(int r, float[] w, int wOff, float[] factor, float[] min, int fOff) {
        long row = nibbleRow(r);
        long f = factorRow(r);
        for (int k = 0; k < blocks; k++) {
            factor[fOff + k] = scaleFactor(f, k);
            min[fOff + k] = minFactor(f, k);
        }
        // NOTE: blocks 2m and 2m + 1 are the low and high nibbles of the same 32 bytes (rows hold whole
        // super-blocks, so the count is even): each byte is loaded once for both.
        for (int k = 0; k < blocks; k += 2) {
            long qs = row + 16L * k;
            int c = wOff + 32 * k;
            for (int l = 0; l < 32; l += SL) {
                ShortVector bytes = IntDot.unsignedBytes(packed, qs + l);
                IntDot.storeLaneOrderedNonNegative(bytes.and((short) 0x0F), w, c, l / SL);
                IntDot.storeLaneOrderedNonNegative(bytes.lanewise(VectorOperators.LSHR, 4), w, c + 32, l / SL);
            }
        }
    }

    @Override
    boolean hasMinimums() {
        return true;
    }
}
