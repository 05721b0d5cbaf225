package dev.bulkhead.engine.internal.cpu;

import static dev.bulkhead.engine.internal.cpu.IntDot.FLOAT;
import static dev.bulkhead.engine.internal.cpu.IntDot.SL;

import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.WeightTensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * ggml Q4_0 (blocks of 32 4-bit values offset by 8 and an f16 scale) times {@link Q8Activations}: value
 * j < 16 of a block is the low nibble of byte j, value j >= 16 the high nibble of byte j - 16. Per block the
 * exact integer dot product, then one FMA by {@code d_w * d_x} into a float accumulator.
 *
 * <p>NOTE: |(nibble - 8) * q| <= 8 * 127, so the whole block's products add up in 16-bit lanes (at most four
 * per lane, 4064 < 2^15) before the lanes are widened once.
 */
final class Q4Matrix extends QuantizedMatrix {

    private static final int BLOCK_BYTES = 18;

    Q4Matrix(WeightTensor t) {
        super(t, DType.Q4_0);
    }

    /** Low nibbles minus 8: of bytes [j, j + SL) of a block, its values [j, j + SL). */
    private static ShortVector low(ShortVector packed) {
        return packed.and((short) 0x0F).sub((short) 8);
    }

    /**
     * High nibbles minus 8: of bytes [j, j + SL) of a block, its values [16 + j, 16 + j + SL). The bytes are
     * zero-extended ({@link IntDot#unsignedBytes}), so the shift leaves nothing to mask.
     */
    private static ShortVector high(ShortVector packed) {
        return packed.lanewise(VectorOperators.LSHR, 4).sub((short) 8);
    }

    /** Integer dot product of one block with 32 activations at {@code q[qOff ..]}, as 32-bit lanes. */
    private IntVector blockSums(long qs, short[] q, int qOff) {
        ShortVector p = packedProducts(qs, q, qOff);
        for (int j = SL; j < 16; j += SL) {
            p = p.add(packedProducts(qs + j, q, qOff + j));
        }
        return IntDot.narrowPairSums(p);
    }

    /**
     * Products of the {@link IntDot#SL} bytes at {@code packed} (both nibbles) with their activations. NOTE: a
     * block's sum starts from the first of these rather than a zero vector, which C2 would add.
     */
    private ShortVector packedProducts(long packed, short[] q, int qOff) {
        ShortVector bytes = IntDot.unsignedBytes(data, packed);
        return products(low(bytes), high(bytes), q, qOff);
    }

    @Override
    float dot(int r, Q8Activations a, int t) {
        long row = rowOffset(r);
        short[] q = a.q;
        int qOff = t * cols;
        int sOff = t * blocks;
        FloatVector acc = FloatVector.zero(FLOAT);
        for (int k = 0; k < blocks; k++) {
            long block = row + (long) k * BLOCK_BYTES;
            float d = IntDot.half(data, block);
            acc = IntDot.accumulate(blockSums(block + 2, q, qOff + k * 32), d * a.scale[sOff + k], acc);
        }
        return IntDot.sum(acc);
    }

    @Override
    void dot2Tokens(int r, Q8Activations a, int t, float[] out, int outOff) {
        long row = rowOffset(r);
        short[] q = a.q;
        float[] s = a.scale;
        int q0 = t * cols;
        int q1 = q0 + cols;
        int s0 = t * blocks;
        int s1 = s0 + blocks;
        FloatVector acc0 = FloatVector.zero(FLOAT);
        FloatVector acc1 = FloatVector.zero(FLOAT);
        for (int k = 0; k < blocks; k++) {
            long block = row + (long) k * BLOCK_BYTES;
            float d = IntDot.half(data, block);
            int c = k * 32;
            ShortVector p0 = ShortVector.zero(IntDot.SHORT);
            ShortVector p1 = ShortVector.zero(IntDot.SHORT);
            for (int j = 0; j < 16; j += SL) {
                ShortVector packed = IntDot.unsignedBytes(data, block + 2 + j);
                ShortVector lo = low(packed);
                ShortVector hi = high(packed);
                p0 = p0.add(products(lo, hi, q, q0 + c + j));
                p1 = p1.add(products(lo, hi, q, q1 + c + j));
            }
            acc0 = IntDot.accumulate(IntDot.narrowPairSums(p0), d * s[s0 + k], acc0);
            acc1 = IntDot.accumulate(IntDot.narrowPairSums(p1), d * s[s1 + k], acc1);
        }
        out[outOff] = IntDot.sum(acc0);
        out[outOff + rows] = IntDot.sum(acc1);
    }

    /** Low and high nibble values times their activations, summed per 16-bit lane. */
    private static ShortVector products(ShortVector lo, ShortVector hi, short[] q, int off) {
        return lo.mul(IntDot.act(q, off)).add(hi.mul(IntDot.act(q, off + 16)));
    }

    @Override
    void unpackRow(int r, float[] w, int wOff, float[] factor, float[] min, int fOff) {
        long row = rowOffset(r);
        for (int k = 0; k < blocks; k++) {
            long block = row + (long) k * BLOCK_BYTES;
            factor[fOff + k] = IntDot.half(data, block);
            int c = wOff + k * Q8Activations.BLOCK;
            for (int j = 0; j < 16; j += SL) {
                ShortVector packed = IntDot.unsignedBytes(data, block + 2 + j);
                IntDot.storeLaneOrdered(low(packed), w, c, j / SL);
                IntDot.storeLaneOrdered(high(packed), w, c, (16 + j) / SL);
            }
        }
    }
}
