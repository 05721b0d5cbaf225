package dev.bulkhead.engine.internal.cpu;

import static dev.bulkhead.engine.internal.cpu.IntDot.FLOAT;
import static dev.bulkhead.engine.internal.cpu.IntDot.SL;

import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.WeightTensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * ggml Q6_K times {@link Q8Activations}. A super-block of 256 values is 128 bytes of low nibbles
 * ({@code ql}), 64 bytes of high bit pairs ({@code qh}), sixteen int8 scales (one per 16 values) and an f16
 * {@code d}. Each half of 128 values is four runs of 32 (one activation block each): run u takes the low
 * (u < 2) or high nibbles of {@code ql[32 (u & 1) ..]}, bits {@code 2u, 2u + 1} of {@code qh}, and the value
 * is {@code d * scale * (those six bits - 32)}. Per 16 values an exact integer sum times the int8 scale, per
 * run one FMA by {@code d * d_x}.
 *
 * <p>The kernels do not read the file's layout: at load every super-block is repacked ({@link #repack}) into three
 * regions of one off-heap segment, each indexed linearly by the 32-value block {@code k} of a row: the values minus
 * 32 as int8 in order ({@code cols} bytes a row), the two int8 scales of each block widened to int32
 * ({@code cols / 4} bytes a row), and per block its super-block's {@code d} as a float. NOTE: unpacking six bits
 * from two places took eleven vector ops per 16 values, more than the multiply and sums they feed, and made Q6_K
 * the slowest type by far (it holds the output matrix and half the FFN-down and V matrices of a Q4_K_M file). An
 * int8 value is one load and one sign extension, as for Q8_0. The kernels loop once over a row's blocks with
 * offsets linear in {@code k}, so C2 checks their bounds once before the loop; a loop over super-blocks with one
 * over their eight blocks inside re-ran those checks per super-block and ran at 0.8x the speed, and a {@code d} per
 * super-block, read at {@code k / 8}, kept a bounds check and its address arithmetic inside the loop. The price is
 * memory: 352 bytes per 256 values where the file has 210, beside the mapped file. The integers are the same, so
 * the results are the bits the file's layout gave.
 *
 * <p>NOTE: the scales are int32 because the kernels multiply 32-bit lane sums by them: an int32 in memory is one
 * broadcast load ({@code vpbroadcastd ymm, [mem]}), an int8 a sign-extending load, a move to a vector register and a
 * broadcast, three instructions of the one-token loop's forty-one per block. The 48 bytes more per 256 values cost
 * less than those instructions: the one-token product out of cache ran faster, not slower (see docs/benchmarks.md).
 *
 * <p>NOTE: |(w - 32) * q| <= 32 * 127, at most two per 16-bit lane before widening: 8128 < 2^15.
 */
final class Q6KMatrix extends QuantizedMatrix {

    private static final int SUPER_BYTES = 210;
    private static final int SUPER_VALUES = 256;
    /** Blocks of 32 values per super-block. */
    private static final int RUNS = SUPER_VALUES / Q8Activations.BLOCK;
    private static final ValueLayout.OfFloat FLOAT_LE = Vectors.FLOAT_LE;
    /** Bytes of each scale in the copy: an int8 widened to int32 (see the class comment). */
    private static final int SCALE_BYTES = Integer.BYTES;

    private final int superBlocks;
    /** Where {@link #packed} holds the scales (after the values) and the {@code d}s (after the scales). */
    private final long scaleBase;
    private final long dBase;

    /** @param copies where the repacked copy is allocated */
    Q6KMatrix(WeightTensor t, Arena copies) {
        super(t, DType.Q6_K, copies, packedBytes(t.rows(), t.cols()));
        this.superBlocks = cols / SUPER_VALUES;
        long values = (long) rows * cols;
        this.scaleBase = values;
        this.dBase = values + values / 16 * SCALE_BYTES;
        for (int r = 0; r < rows; r++) {
            repack(r);
        }
    }

    /** Bytes of the repacked copy of a {@code rows x cols} matrix: 352 per 256 values. */
    static long packedBytes(int rows, int cols) {
        long values = (long) rows * cols;
        return values + values / 16 * SCALE_BYTES + values / Q8Activations.BLOCK * Float.BYTES;
    }

    /**
     * Six-bit values minus 32 from the file's layout: the nibble {@code nibbleShift} (0 or 4) bits up in the
     * {@code ql} bytes, the bit pair {@code pairShift} bits up in the {@code qh} bytes.
     */
    private ShortVector fileWeights(long ql, int nibbleShift, long qh, int pairShift) {
        ShortVector low = IntDot.bytes(data, ql).lanewise(VectorOperators.LSHR, nibbleShift).and((short) 0x0F);
        ShortVector high = IntDot.bytes(data, qh).lanewise(VectorOperators.LSHR, pairShift).and((short) 3)
                .lanewise(VectorOperators.LSHL, 4);
        return low.or(high).sub((short) 32);
    }

    /** Row r from the file's layout into {@link #packed}. */
    private void repack(int r) {
        long row = rowOffset(r);
        long values = valueRow(r);
        long scales = scaleRow(r);
        long ds = dRow(r);
        for (int sb = 0; sb < superBlocks; sb++) {
            long b = row + (long) sb * SUPER_BYTES;
            long p = values + (long) sb * SUPER_VALUES;
            for (int run = 0; run < RUNS; run++) {
                int h = run >> 2;
                int u = run & 3;
                long ql = b + 64 * h + 32 * (u & 1);
                long qh = b + 128 + 32 * h;
                for (int l = 0; l < 32; l += SL) {
                    fileWeights(ql + l, 4 * (u >> 1), qh + l, 2 * u).convertShape(VectorOperators.S2B, IntDot.BYTE, 0)
                            .intoMemorySegment(packed, p + 32L * run + l, ByteOrder.LITTLE_ENDIAN);
                }
            }
            // NOTE: ggml's scale order is already run by run (sc[8h + 2u + l / 16]), so the 16 scales widen in order.
            for (int i = 0; i < 16; i++) {
                packed.set(IntDot.INT_LE, scales + (long) SCALE_BYTES * (16 * sb + i),
                        data.get(ValueLayout.JAVA_BYTE, b + 192 + i));
            }
            float d = IntDot.half(data, b + 208);
            // NOTE: once per block, so that the kernels read it at a linear offset (see the class comment).
            for (int run = 0; run < RUNS; run++) {
                packed.set(FLOAT_LE, ds + (long) (sb * RUNS + run) * Float.BYTES, d);
            }
        }
    }

    /** Offset in {@link #packed} of row r's first value. */
    private long valueRow(int r) {
        return (long) r * cols;
    }

    /** Offset in {@link #packed} of row r's first scale. */
    private long scaleRow(int r) {
        return scaleBase + 2L * SCALE_BYTES * r * blocks;
    }

    /** Offset in {@link #packed} of row r's first {@code d}. */
    private long dRow(int r) {
        return dBase + (long) r * blocks * Float.BYTES;
    }

    /** Scale {@code i} (0 or 1: values 0..15 or 16..31) of the block whose two scales start at {@code pair}. */
    private int scale(long pair, int i) {
        return packed.get(IntDot.INT_LE, pair + (long) SCALE_BYTES * i);
    }

    /** {@code d} of the super-block holding block {@code k}, of the row whose first {@code d} is at {@code ds}. */
    private float d(long ds, int k) {
        return packed.get(FLOAT_LE, ds + (long) k * Float.BYTES);
    }

    /**
     * Integer sum of the 16 values at {@code v} against {@code q[qOff ..]}, times their scale {@code sc}. NOTE: the
     * sum starts from the first product, not from a zero vector that C2 would add; {@code SL} is a constant, so
     * the second product's branch folds away where one vector holds all sixteen.
     */
    private IntVector sixteen(long v, short[] q, int qOff, int sc) {
        ShortVector p = IntDot.bytes(packed, v).mul(IntDot.act(q, qOff));
        if (SL < 16) {
            p = p.add(IntDot.bytes(packed, v + SL).mul(IntDot.act(q, qOff + SL)));
        }
        return IntDot.narrowPairSums(p).mul(sc);
    }

    @Override
    float dot(int r, Q8Activations a, int t) {
        long values = valueRow(r);
        long scales = scaleRow(r);
        long ds = dRow(r);
        short[] q = a.q;
        float[] s = a.scale;
        int qOff = t * cols;
        int sOff = t * blocks;
        FloatVector acc = FloatVector.zero(FLOAT);
        for (int k = 0; k < blocks; k++) {
            long v = values + 32L * k;
            long sc = scales + 2L * SCALE_BYTES * k;
            int c = qOff + 32 * k;
            IntVector sums = sixteen(v, q, c, scale(sc, 0)).add(sixteen(v + 16, q, c + 16, scale(sc, 1)));
            acc = IntDot.accumulate(sums, d(ds, k) * s[sOff + k], acc);
        }
        return IntDot.sum(acc);
    }

    @Override
    void dot2Tokens(int r, Q8Activations a, int t, float[] out, int outOff) {
        long values = valueRow(r);
        long scales = scaleRow(r);
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
            int c = 32 * k;
            IntVector i0 = IntVector.zero(IntDot.INT);
            IntVector i1 = IntVector.zero(IntDot.INT);
            for (int l0 = 0; l0 < 32; l0 += 16) {
                int scale = scale(scales + 2L * SCALE_BYTES * k, l0 >> 4);
                ShortVector p0 = ShortVector.zero(IntDot.SHORT);
                ShortVector p1 = ShortVector.zero(IntDot.SHORT);
                for (int l = l0; l < l0 + 16; l += SL) {
                    ShortVector w = IntDot.bytes(packed, values + c + l);
                    p0 = p0.add(w.mul(IntDot.act(q, q0 + c + l)));
                    p1 = p1.add(w.mul(IntDot.act(q, q1 + c + l)));
                }
                i0 = i0.add(IntDot.narrowPairSums(p0).mul(scale));
                i1 = i1.add(IntDot.narrowPairSums(p1).mul(scale));
            }
            float d = d(ds, k);
            acc0 = IntDot.accumulate(i0, d * s[s0 + k], acc0);
            acc1 = IntDot.accumulate(i1, d * s[s1 + k], acc1);
        }
        out[outOff] = IntDot.sum(acc0);
        out[outOff + rows] = IntDot.sum(acc1);
    }

    @Override
    void unpackRow(int r, float[] w, int wOff, float[] factor, float[] min, int fOff) {
        long values = valueRow(r);
        long scales = scaleRow(r);
        long ds = dRow(r);
        for (int k = 0; k < blocks; k++) {
            factor[fOff + k] = d(ds, k);
            int c = wOff + 32 * k;
            for (int l = 0; l < 32; l += SL) {
                // NOTE: |scale * (w - 32)| <= 128 * 32 fits the 16-bit lanes; SL divides 16, so a chunk has one scale.
                int scale = scale(scales + 2L * SCALE_BYTES * k, l >> 4);
                ShortVector v = IntDot.bytes(packed, values + 32L * k + l).mul((short) scale);
                IntDot.storeLaneOrdered(v, w, c, l / SL);
            }
        }
    }

    /** The integer kernel is slow here (a scale per 16 values), so the tiles win from 4 tokens (1.7x, AVX2). */
    @Override
    int tileMinTokens() {
        return QuantizedMatrix.TILE_MIN_TOKENS;
    }
}
