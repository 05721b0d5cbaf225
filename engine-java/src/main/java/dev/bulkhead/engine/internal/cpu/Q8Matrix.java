package dev.bulkhead.engine.internal.cpu;

import static dev.bulkhead.engine.internal.cpu.IntDot.FLOAT;
import static dev.bulkhead.engine.internal.cpu.IntDot.SL;

import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.WeightTensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;

/**
 * ggml Q8_0 (blocks of 32 int8 values and an f16 scale) times {@link Q8Activations}: per block the exact
 * integer dot product, then one FMA by {@code d_w * d_x} into a float accumulator.
 *
 * <p>NOTE: two products per 16-bit lane at most (|w * q| <= 128 * 127, two of them 32512 < 2^15), so a block
 * of 32 is one 16-bit sum per pair of vectors before the pairs are widened.
 */
final class Q8Matrix extends QuantizedMatrix {

    private static final int BLOCK_BYTES = 34;

    Q8Matrix(WeightTensor t) {
        super(t, DType.Q8_0);
    }

    /** 16-bit lanes summing two products each: values [j, j + SL) and [j + SL, j + 2 SL) of the block. */
    private ShortVector twoProducts(long block, int j, short[] q, int qOff) {
        ShortVector w0 = IntDot.bytes(data, block + 2 + j);
        ShortVector w1 = IntDot.bytes(data, block + 2 + j + SL);
        return w0.mul(IntDot.act(q, qOff + j)).add(w1.mul(IntDot.act(q, qOff + j + SL)));
    }

    /**
     * Integer dot product of one block with 32 activations, as 32-bit lanes. NOTE: the first pair of vectors
     * starts the sum rather than a zero vector: C2 does not fold {@code zero.add(x)} and would spend an add on it.
     */
    private IntVector blockSums(long block, short[] q, int qOff) {
        IntVector s = IntDot.pairSums(twoProducts(block, 0, q, qOff));
        for (int j = 2 * SL; j < Q8Activations.BLOCK; j += 2 * SL) {
            s = s.add(IntDot.pairSums(twoProducts(block, j, q, qOff)));
        }
        return s;
    }

    @Override
    float dot(int r, Q8Activations a, int t) {
        short[] q = a.q;
        float[] scale = a.scale;
        int qOff = t * cols;
        int sOff = t * blocks;
        FloatVector acc = FloatVector.zero(FLOAT);
        long row = rowOffset(r);
        int k = 0;
        // NOTE: two blocks per iteration, accumulated in order (the same bits): the loop's index and address
        // arithmetic, as many scalar instructions as the block's vector work, is paid once for both.
        for (; k + 2 <= blocks; k += 2) {
            long block = row + (long) k * BLOCK_BYTES;
            float d0 = IntDot.half(data, block);
            float d1 = IntDot.half(data, block + BLOCK_BYTES);
            int c = qOff + k * 32;
            acc = IntDot.accumulate(blockSums(block, q, c), d0 * scale[sOff + k], acc);
            acc = IntDot.accumulate(blockSums(block + BLOCK_BYTES, q, c + 32), d1 * scale[sOff + k + 1], acc);
        }
        for (; k < blocks; k++) {
            long block = row + (long) k * BLOCK_BYTES;
            float d = IntDot.half(data, block);
            acc = IntDot.accumulate(blockSums(block, q, qOff + k * 32), d * scale[sOff + k], acc);
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
            IntVector i0 = IntVector.zero(IntDot.INT);
            IntVector i1 = IntVector.zero(IntDot.INT);
            for (int j = 0; j < Q8Activations.BLOCK; j += 2 * SL) {
                ShortVector w0 = IntDot.bytes(data, block + 2 + j);
                ShortVector w1 = IntDot.bytes(data, block + 2 + j + SL);
                i0 = i0.add(pair(w0, w1, q, q0 + c + j));
                i1 = i1.add(pair(w0, w1, q, q1 + c + j));
            }
            acc0 = IntDot.accumulate(i0, d * s[s0 + k], acc0);
            acc1 = IntDot.accumulate(i1, d * s[s1 + k], acc1);
        }
        out[outOff] = IntDot.sum(acc0);
        out[outOff + rows] = IntDot.sum(acc1);
    }

    private static IntVector pair(ShortVector w0, ShortVector w1, short[] q, int off) {
        return IntDot.pairSums(w0.mul(IntDot.act(q, off)).add(w1.mul(IntDot.act(q, off + SL))));
    }

    @Override
    void unpackRow(int r, float[] w, int wOff, float[] factor, float[] min, int fOff) {
        long row = rowOffset(r);
        for (int k = 0; k < blocks; k++) {
            long block = row + (long) k * BLOCK_BYTES;
            factor[fOff + k] = IntDot.half(data, block);
            for (int j = 0; j < Q8Activations.BLOCK; j += SL) {
                IntDot.storeLaneOrdered(IntDot.bytes(data, block + 2 + j), w, wOff + k * Q8Activations.BLOCK, j / SL);
            }
        }
    }
}
