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
 * <p>The nibbles are read in place. The 6-bit scales and minimums are decoded once, at load, into a side
 * table ({@link #scales}): per 32-value block its scale and minimum as two bytes, per super-block {@code d}
 * and {@code dmin} as floats, 0.09 bytes per value beside the file's 0.56. NOTE: decoding them from the twelve
 * packed bytes in the kernels took about as many instructions as the products: the one-token kernel ran at 0.6x
 * of Q4_0's speed, and 0.75x with the table (AVX2). A table of the products {@code d * scale} as floats was
 * faster still (Q4_0's speed) but 0.25 bytes per value, 44% more to read than the file. The kernels compute
 * {@code d * scale} as before, so the bits are the same.
 *
 * <p>NOTE: unsigned nibbles times |q| <= 127, at most four per 16-bit lane: 7620 < 2^15.
 */
final class Q4KMatrix extends QuantizedMatrix {

    private static final int SUPER_BYTES = 144;
    private static final int SUPER_VALUES = 256;
    private static final ValueLayout.OfFloat FLOAT_LE = Vectors.FLOAT_LE;

    private final int superBlocks;
    /**
     * Row after row, per block {@code k} its scale at {@code 2k} and minimum at {@code 2k + 1} (unsigned bytes);
     * from {@link #dBase}, per super-block {@code d} then {@code dmin} (floats).
     */
    private final MemorySegment scales;
    private final long dBase;

    /** @param copies where the side table is allocated */
    Q4KMatrix(WeightTensor t, Arena copies) {
        super(t, DType.Q4_K);
        this.superBlocks = cols / SUPER_VALUES;
        this.dBase = 2L * rows * blocks;
        this.scales = copies.allocate(tableBytes(rows, cols), 8);
        for (int r = 0; r < rows; r++) {
            decodeScales(r);
        }
    }

    /** Bytes of the side table of a {@code rows x cols} matrix: two per 32 values, eight per 256. */
    static long tableBytes(int rows, int cols) {
        return 2L * rows * (cols / Q8Activations.BLOCK) + 2L * Float.BYTES * rows * (cols / SUPER_VALUES);
    }

    /** Bytes this matrix allocated off the heap (its side table). */
    long hostBytes() {
        return scales.byteSize();
    }

    /** Row r's scales, minimums, {@code d} and {@code dmin} from the file into {@link #scales}. */
    private void decodeScales(int r) {
        long row = rowOffset(r);
        long sr = scaleRow(r);
        long ds = dRow(r);
        for (int sb = 0; sb < superBlocks; sb++) {
            long b = row + (long) sb * SUPER_BYTES;
            long lo = data.get(IntDot.LONG_LE, b + 4);
            int hi = data.get(IntDot.INT_LE, b + 12);
            long pairs = sr + 16L * sb;
            for (int j = 0; j < 8; j++) {
                scales.set(ValueLayout.JAVA_BYTE, pairs + 2 * j, (byte) scaleOf(lo, hi, j));
                scales.set(ValueLayout.JAVA_BYTE, pairs + 2 * j + 1, (byte) minOf(lo, hi, j));
            }
            long f = ds + 2L * Float.BYTES * sb;
            scales.set(FLOAT_LE, f, IntDot.half(data, b));
            scales.set(FLOAT_LE, f + Float.BYTES, IntDot.half(data, b + 2));
        }
    }

    /** Offset in {@link #scales} of row r's first scale. */
    private long scaleRow(int r) {
        return 2L * r * blocks;
    }

    /** Offset in {@link #scales} of row r's first {@code d}. */
    private long dRow(int r) {
        return dBase + 2L * Float.BYTES * r * superBlocks;
    }

    /** {@code d} of the super-block holding block {@code k}, of the row whose first {@code d} is at {@code ds}. */
    private float d(long ds, int k) {
        return scales.get(FLOAT_LE, ds + 2L * Float.BYTES * (k / 8));
    }

    /** {@code dmin} of the super-block holding block {@code k}, as {@link #d}. */
    private float dmin(long ds, int k) {
        return scales.get(FLOAT_LE, ds + 2L * Float.BYTES * (k / 8) + Float.BYTES);
    }

    /** Scale of the block whose pair starts at {@code pair}. */
    private int scale(long pair) {
        return scales.get(ValueLayout.JAVA_BYTE, pair) & 0xFF;
    }

    /** Minimum of the block whose pair starts at {@code pair}. */
    private int min(long pair) {
        return scales.get(ValueLayout.JAVA_BYTE, pair + 1) & 0xFF;
    }

    /** Offset in the file of the 32 nibble bytes of blocks {@code k} (low) and {@code k + 1} (high), k even. */
    private long nibbleBytes(long row, int k) {
        return row + (long) (k / 8) * SUPER_BYTES + 16 + 16 * (k % 8);
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
        long row = rowOffset(r);
        long sr = scaleRow(r);
        long ds = dRow(r);
        short[] q = a.q;
        float[] s = a.scale;
        float[] ss = a.scaledSum;
        int qOff = t * cols;
        int sOff = t * blocks;
        FloatVector acc = FloatVector.zero(FLOAT);
        float mins = 0f;
        for (int k = 0; k < blocks; k += 2) {
            long qs = nibbleBytes(row, k);
            int c = qOff + 32 * k;
            // NOTE: the sums start from the first bytes' products, not from zero vectors that C2 would add.
            ShortVector first = IntDot.unsignedBytes(data, qs);
            ShortVector low = first.and((short) 0x0F).mul(IntDot.act(q, c));
            ShortVector high = first.lanewise(VectorOperators.LSHR, 4).mul(IntDot.act(q, c + 32));
            for (int l = SL; l < 32; l += SL) {
                ShortVector packed = IntDot.unsignedBytes(data, qs + l);
                low = low.add(packed.and((short) 0x0F).mul(IntDot.act(q, c + l)));
                high = high.add(packed.lanewise(VectorOperators.LSHR, 4).mul(IntDot.act(q, c + 32 + l)));
            }
            float d = d(ds, k);
            float dmin = dmin(ds, k);
            // NOTE: both blocks' scale and minimum bytes in one load: a call per byte overran C2's inlining budget.
            int four = scales.get(IntDot.INT_LE, sr + 2L * k);
            int blk = sOff + k;
            acc = IntDot.accumulate(IntDot.narrowPairSums(low), d * (four & 0xFF) * s[blk], acc);
            mins += dmin * (four >>> 8 & 0xFF) * ss[blk];
            acc = IntDot.accumulate(IntDot.narrowPairSums(high), d * (four >>> 16 & 0xFF) * s[blk + 1], acc);
            mins += dmin * (four >>> 24) * ss[blk + 1];
        }
        return IntDot.sum(acc) - mins;
    }

    @Override
    void dot2Tokens(int r, Q8Activations a, int t, float[] out, int outOff) {
        long row = rowOffset(r);
        long sr = scaleRow(r);
        long ds = dRow(r);
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
            long qs = nibbleBytes(row, k & ~1);
            int shift = 4 * (k & 1);
            int c = 32 * k;
            ShortVector p0 = ShortVector.zero(IntDot.SHORT);
            ShortVector p1 = ShortVector.zero(IntDot.SHORT);
            for (int l = 0; l < 32; l += SL) {
                ShortVector w = nibbles(IntDot.bytes(data, qs + l), shift);
                p0 = p0.add(w.mul(IntDot.act(q, q0 + c + l)));
                p1 = p1.add(w.mul(IntDot.act(q, q1 + c + l)));
            }
            long pair = sr + 2L * k;
            float fs = d(ds, k) * scale(pair);
            float fm = dmin(ds, k) * min(pair);
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
        long row = rowOffset(r);
        long sr = scaleRow(r);
        long ds = dRow(r);
        for (int k = 0; k < blocks; k++) {
            long pair = sr + 2L * k;
            factor[fOff + k] = d(ds, k) * scale(pair);
            min[fOff + k] = dmin(ds, k) * min(pair);
        }
        // NOTE: blocks 2m and 2m + 1 are the low and high nibbles of the same 32 bytes (rows hold whole
        // super-blocks, so the count is even): each byte is loaded once for both.
        for (int k = 0; k < blocks; k += 2) {
            long qs = nibbleBytes(row, k);
            int c = wOff + 32 * k;
            for (int l = 0; l < 32; l += SL) {
                ShortVector packed = IntDot.unsignedBytes(data, qs + l);
                IntDot.storeLaneOrderedNonNegative(packed.and((short) 0x0F), w, c, l / SL);
                IntDot.storeLaneOrderedNonNegative(packed.lanewise(VectorOperators.LSHR, 4), w, c + 32, l / SL);
            }
        }
    }

    @Override
    boolean hasMinimums() {
        return true;
    }
}
