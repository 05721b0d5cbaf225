package dev.bulkhead.engine.internal.cpu;

import static dev.bulkhead.engine.internal.cpu.IntDot.FLOAT;
import static dev.bulkhead.engine.internal.cpu.IntDot.SL;

import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.WeightTensor;
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
 * <p>NOTE: unsigned nibbles times |q| <= 127, at most four per 16-bit lane: 7620 < 2^15.
 */
final class Q4KMatrix extends QuantizedMatrix {

    private static final int SUPER_BYTES = 144;
    private static final int SUPER_VALUES = 256;

    private final int superBlocks;

    Q4KMatrix(WeightTensor t) {
        super(t, DType.Q4_K);
        this.superBlocks = cols / SUPER_VALUES;
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
     * NOTE: sub-blocks 2k and 2k + 1 are the low and high nibbles of the same 32 bytes, so this kernel loads
     * each byte once for both and folds them into the accumulator one after the other, in sub-block order: the
     * same integers and FMAs as {@link #dot2Tokens}, which keeps one sub-block at a time because its two token
     * chains already hold twice the registers.
     */
    @Override
    float dot(int r, Q8Activations a, int t) {
        long row = rowOffset(r);
        short[] q = a.q;
        float[] s = a.scale;
        float[] ss = a.scaledSum;
        int qOff = t * cols;
        int sOff = t * blocks;
        FloatVector acc = FloatVector.zero(FLOAT);
        float mins = 0f;
        for (int sb = 0; sb < superBlocks; sb++) {
            long b = row + (long) sb * SUPER_BYTES;
            float d = IntDot.half(data, b);
            float dmin = IntDot.half(data, b + 2);
            long lo = data.get(IntDot.LONG_LE, b + 4);
            int hi = data.get(IntDot.INT_LE, b + 12);
            for (int j = 0; j < 8; j += 2) {
                long qs = b + 16 + 16 * j;
                int c = qOff + sb * SUPER_VALUES + 32 * j;
                // NOTE: the sums start from the first bytes' products, not from zero vectors that C2 would add.
                ShortVector first = IntDot.unsignedBytes(data, qs);
                ShortVector low = first.and((short) 0x0F).mul(IntDot.act(q, c));
                ShortVector high = first.lanewise(VectorOperators.LSHR, 4).mul(IntDot.act(q, c + 32));
                for (int l = SL; l < 32; l += SL) {
                    ShortVector packed = IntDot.unsignedBytes(data, qs + l);
                    low = low.add(packed.and((short) 0x0F).mul(IntDot.act(q, c + l)));
                    high = high.add(packed.lanewise(VectorOperators.LSHR, 4).mul(IntDot.act(q, c + 32 + l)));
                }
                int blk = sOff + sb * 8 + j;
                acc = IntDot.accumulate(IntDot.narrowPairSums(low), d * scaleOf(lo, hi, j) * s[blk], acc);
                mins += dmin * minOf(lo, hi, j) * ss[blk];
                acc = IntDot.accumulate(IntDot.narrowPairSums(high), d * scaleOf(lo, hi, j + 1) * s[blk + 1], acc);
                mins += dmin * minOf(lo, hi, j + 1) * ss[blk + 1];
            }
        }
        return IntDot.sum(acc) - mins;
    }

    @Override
    void dot2Tokens(int r, Q8Activations a, int t, float[] out, int outOff) {
        long row = rowOffset(r);
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
        for (int sb = 0; sb < superBlocks; sb++) {
            long b = row + (long) sb * SUPER_BYTES;
            float d = IntDot.half(data, b);
            float dmin = IntDot.half(data, b + 2);
            long lo = data.get(IntDot.LONG_LE, b + 4);
            int hi = data.get(IntDot.INT_LE, b + 12);
            for (int j = 0; j < 8; j++) {
                long qs = b + 16 + 32 * (j >> 1);
                int shift = 4 * (j & 1);
                int c = sb * SUPER_VALUES + 32 * j;
                ShortVector p0 = ShortVector.zero(IntDot.SHORT);
                ShortVector p1 = ShortVector.zero(IntDot.SHORT);
                for (int l = 0; l < 32; l += SL) {
                    ShortVector w = nibbles(IntDot.bytes(data, qs + l), shift);
                    p0 = p0.add(w.mul(IntDot.act(q, q0 + c + l)));
                    p1 = p1.add(w.mul(IntDot.act(q, q1 + c + l)));
                }
                int blk = sb * 8 + j;
                float ds = d * scaleOf(lo, hi, j);
                float dm = dmin * minOf(lo, hi, j);
                acc0 = IntDot.accumulate(IntDot.narrowPairSums(p0), ds * s[s0 + blk], acc0);
                acc1 = IntDot.accumulate(IntDot.narrowPairSums(p1), ds * s[s1 + blk], acc1);
                m0 += dm * ss[s0 + blk];
                m1 += dm * ss[s1 + blk];
            }
        }
        out[outOff] = IntDot.sum(acc0) - m0;
        out[outOff + rows] = IntDot.sum(acc1) - m1;
    }

    @Override
    void unpackRow(int r, float[] w, int wOff, float[] factor, float[] min, int fOff) {
        long row = rowOffset(r);
        for (int sb = 0; sb < superBlocks; sb++) {
            long b = row + (long) sb * SUPER_BYTES;
            float d = IntDot.half(data, b);
            float dmin = IntDot.half(data, b + 2);
            long lo = data.get(IntDot.LONG_LE, b + 4);
            int hi = data.get(IntDot.INT_LE, b + 12);
            for (int j = 0; j < 8; j++) {
                int blk = fOff + sb * 8 + j;
                factor[blk] = d * scaleOf(lo, hi, j);
                min[blk] = dmin * minOf(lo, hi, j);
                long qs = b + 16 + 32 * (j >> 1);
                int c = wOff + sb * SUPER_VALUES + 32 * j;
                for (int l = 0; l < 32; l += SL) {
                    IntDot.storeLaneOrdered(nibbles(IntDot.bytes(data, qs + l), 4 * (j & 1)), w, c, l / SL);
                }
            }
        }
    }

    @Override
    boolean hasMinimums() {
        return true;
    }
}
