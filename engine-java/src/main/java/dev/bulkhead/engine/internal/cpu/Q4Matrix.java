package dev.bulkhead.engine.internal.cpu;

import static dev.bulkhead.engine.internal.cpu.IntDot.FLOAT;
import static dev.bulkhead.engine.internal.cpu.IntDot.SL;

import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.WeightTensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * ggml Q4_0 (blocks of 32 4-bit values offset by 8 and an f16 scale) times {@link Q8Activations}: value
 * j < 16 of a block is the low nibble of byte j, value j >= 16 the high nibble of byte j - 16. Per block the
 * exact integer dot product, then one FMA by {@code d_w * d_x} into a float accumulator.
 *
 * <p>The kernels do not read the file's layout: at load every row is repacked into two regions of one
 * off-heap segment, the nibbles without the scales between them ({@code cols / 2} bytes a row) and each block's
 * scale as a float, so that a block's bytes start at {@code 16 k} and its scale needs no conversion. NOTE: read in
 * place, each block cost a half-to-float conversion (three instructions) and 18-byte strides; with the copy the
 * one-token kernel ran 1.1-1.2x as fast (AVX2). The price is 20 bytes per 32 values where the file has 18, beside
 * the mapped file, whose pages the repack reads once; llama.cpp repacks Q4_0 at load on AVX2 too.
 *
 * <p>NOTE: |(nibble - 8) * q| <= 8 * 127, so the whole block's products add up in 16-bit lanes (at most four
 * per lane, 4064 < 2^15) before the lanes are widened once.
 */
final class Q4Matrix extends QuantizedMatrix {

    private static final int BLOCK_BYTES = 18;
    private static final ValueLayout.OfFloat FLOAT_LE = Vectors.FLOAT_LE;

    /** Where {@link #packed} holds the scales: after the nibbles ({@code cols / 2} bytes a row, block k at 16 k). */
    private final long dBase;

    /** @param copies where the repacked copy is allocated */
    Q4Matrix(WeightTensor t, Arena copies) {
        super(t, DType.Q4_0, copies, packedBytes(t.rows(), t.cols()));
        this.dBase = (long) rows * cols / 2;
        for (int r = 0; r < rows; r++) {
            repack(r);
        }
    }

    /**
     * Row r from the file's layout into {@link #packed}. NOTE: two 8-byte moves per block rather than a 16-byte
     * {@link MemorySegment#copy} (which took twice as long per block) or a 16-byte vector (no faster).
     */
    private void repack(int r) {
        long row = rowOffset(r);
        long nibbles = nibbleRow(r);
        long ds = dRow(r);
        for (int k = 0; k < blocks; k++) {
            long block = row + (long) k * BLOCK_BYTES;
            packed.set(FLOAT_LE, ds + 4L * k, IntDot.half(data, block));
            packed.set(IntDot.LONG_LE, nibbles + 16L * k, data.get(IntDot.LONG_LE, block + 2));
            packed.set(IntDot.LONG_LE, nibbles + 16L * k + 8, data.get(IntDot.LONG_LE, block + 10));
        }
    }

    /** Bytes of the repacked copy of a {@code rows x cols} matrix: 20 per 32 values. */
    static long packedBytes(int rows, int cols) {
        long values = (long) rows * cols;
        return values / 2 + values / 32 * Float.BYTES;
    }

    /** Offset in {@link #packed} of row r's first nibble byte. */
    private long nibbleRow(int r) {
        return (long) r * cols / 2;
    }

    /** Offset in {@link #packed} of row r's first scale. */
    private long dRow(int r) {
        return dBase + 4L * r * blocks;
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
     * Products of the {@link IntDot#SL} bytes at {@code offset} of the copy (both nibbles) with their activations.
     * NOTE: a block's sum starts from the first of these rather than a zero vector, which C2 would add.
     */
    private ShortVector packedProducts(long offset, short[] q, int qOff) {
        ShortVector bytes = IntDot.unsignedBytes(packed, offset);
        return products(low(bytes), high(bytes), q, qOff);
    }

    @Override
    float dot(int r, Q8Activations a, int t) {
        long row = nibbleRow(r);
        long ds = dRow(r);
        short[] q = a.q;
        int qOff = t * cols;
        int sOff = t * blocks;
        FloatVector acc = FloatVector.zero(FLOAT);
        for (int k = 0; k < blocks; k++) {
            float d = packed.get(FLOAT_LE, ds + 4L * k);
            acc = IntDot.accumulate(blockSums(row + 16L * k, q, qOff + k * 32), d * a.scale[sOff + k], acc);
        }
        return IntDot.sum(acc);
    }

    @Override
    void dot2Tokens(int r, Q8Activations a, int t, float[] out, int outOff) {
        long row = nibbleRow(r);
        long ds = dRow(r);
        short[] q = a.q;
        float[] s = a.scale;
        int q0 = t * cols;
        int q1 = q0 + cols;
        int s0 = t * blocks;
        int s1 = s0 + blocks;
        FloatVector acc0 = FloatVector.zero(FLOAT);
        FloatVector acc1 = FloatVector.zero(FLOAT);
        for (int k = 0; k < blocks; k++) {
            long block = row + 16L * k;
            float d = packed.get(FLOAT_LE, ds + 4L * k);
            int c = k * 32;
            ShortVector p0 = ShortVector.zero(IntDot.SHORT);
            ShortVector p1 = ShortVector.zero(IntDot.SHORT);
            for (int j = 0; j < 16; j += SL) {
                ShortVector bytes = IntDot.unsignedBytes(packed, block + j);
                ShortVector lo = low(bytes);
                ShortVector hi = high(bytes);
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
        long row = nibbleRow(r);
        long ds = dRow(r);
        for (int k = 0; k < blocks; k++) {
            long block = row + 16L * k;
            factor[fOff + k] = packed.get(FLOAT_LE, ds + 4L * k);
            int c = wOff + k * Q8Activations.BLOCK;
            for (int j = 0; j < 16; j += SL) {
                ShortVector bytes = IntDot.unsignedBytes(packed, block + j);
                IntDot.storeLaneOrdered(low(bytes), w, c, j / SL);
                IntDot.storeLaneOrdered(high(bytes), w, c, (16 + j) / SL);
            }
        }
    }
}
