package dev.bulkhead.engine.internal.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Species and building blocks of the integer dot products between quantized weights and
 * {@link Q8Activations}: weight bytes widened to 16-bit lanes, multiplied by the 16-bit activations
 * (products and sums of a few products fit in 16 bits), pairs of lanes added into 32-bit lanes, and a float
 * accumulator fed once per block of 32 values.
 *
 * <p>NOTE: the Vector API has no widening multiply-add (x86's {@code vpmaddubsw}/{@code vpmaddwd}), so this
 * is the cheapest form that C2 compiles to plain SIMD on AVX2, AVX-512 and NEON: {@code vpmovsxbw},
 * {@code vpmullw}, {@code vpaddw}, two shifts and an add for the pair sums, one int-to-float conversion and
 * one FMA per block.
 */
final class IntDot {

    /**
     * 16-bit lanes per step: the preferred width capped at 256 bits (16 lanes) and at least 128 bits.
     * NOTE: capped because a Q4_0 block is two 16-value halves (low and high nibbles of the same 16 bytes);
     * a 32-lane vector would need a cross-lane shuffle per block. Any width from 8 to 16 lanes works.
     */
    static final VectorSpecies<Short> SHORT = VectorSpecies.of(short.class, VectorShape.forBitSize(
            Math.clamp(ShortVector.SPECIES_PREFERRED.vectorBitSize(), 128, 256)));
    /** 16-bit lanes of {@link #SHORT}: 8 or 16, a divisor of 16. */
    static final int SL = SHORT.length();
    /** One weight byte per 16-bit lane (64 or 128 bits). */
    static final VectorSpecies<Byte> BYTE = VectorSpecies.of(byte.class, VectorShape.forBitSize(SL * 8));
    static final VectorSpecies<Integer> INT = VectorSpecies.of(int.class, SHORT.vectorShape());
    static final VectorSpecies<Float> FLOAT = VectorSpecies.of(float.class, SHORT.vectorShape());
    /** Float (and 32-bit integer) lanes: {@code SL / 2}. */
    static final int FL = FLOAT.length();
    private static final LaneTree TREE = LaneTree.of(FLOAT);

    static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private IntDot() {
    }

    /**
     * Chunk {@code chunk} of a block (its values {@code [chunk * SL, chunk * SL + SL)}, as 16-bit integers)
     * stored as floats in the kernels' lane order into the block's 32 floats at {@code dst[off ..]}: the even
     * positions are vector {@code 2 chunk}, the odd ones vector {@code 2 chunk + 1}, split as {@link #pairSums}
     * splits them. So float lane i of vector m holds position {@code (m / 2) * SL + 2i + m % 2}: the kernels add
     * products at positions {@code j + k} (j a multiple of SL) into 16-bit lane k, then pair lanes 2i and 2i + 1
     * into 32-bit lane i, so lane i of a block sums exactly these positions, whatever the type.
     * NOTE: {@link QuantizedMatrix}'s float tiles lay out weights and activations in this order so that their
     * per-lane sums are the kernels' integers (exact in float below 2^24), and their results the same bits.
     */
    static void storeLaneOrdered(ShortVector values, float[] dst, int off, int chunk) {
        IntVector w = values.reinterpretAsInts();
        IntVector even = w.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16);
        IntVector odd = w.lanewise(VectorOperators.ASHR, 16);
        ((FloatVector) even.convert(VectorOperators.I2F, 0)).intoArray(dst, off + 2 * chunk * FL);
        ((FloatVector) odd.convert(VectorOperators.I2F, 0)).intoArray(dst, off + (2 * chunk + 1) * FL);
    }

    /**
     * {@link #storeLaneOrdered} for values that are all in [0, 2^15), such as nibbles: the even positions are the
     * low half of each 32-bit lane as it is, so one mask instead of two shifts; the same floats.
     */
    static void storeLaneOrderedNonNegative(ShortVector values, float[] dst, int off, int chunk) {
        IntVector w = values.reinterpretAsInts();
        IntVector even = w.and(0xFFFF);
        IntVector odd = w.lanewise(VectorOperators.LSHR, 16);
        ((FloatVector) even.convert(VectorOperators.I2F, 0)).intoArray(dst, off + 2 * chunk * FL);
        ((FloatVector) odd.convert(VectorOperators.I2F, 0)).intoArray(dst, off + (2 * chunk + 1) * FL);
    }

    /**
     * {@code n} floats from {@code src[srcOff ..]} into {@code dst[dstOff ..]} in the lane order of
     * {@link #storeLaneOrdered}: within each group of {@link #SL} values, the even positions first, then the odd
     * ones. {@code n} is a multiple of {@link #SL} (rows of 32-value blocks). A product over two operands both in
     * this order is the product over the originals, which is how {@link BlasGemm} uses rows widened by
     * {@link QuantizedMatrix#widenRowsLaneOrdered} without putting them back in column order.
     */
    static void laneOrder(float[] src, int srcOff, float[] dst, int dstOff, int n) {
        int half = SL / 2;
        for (int g = 0; g < n; g += SL) {
            for (int i = 0; i < half; i++) {
                dst[dstOff + g + i] = src[srcOff + g + 2 * i];
                dst[dstOff + g + half + i] = src[srcOff + g + 2 * i + 1];
            }
        }
    }

    /** {@link #SL} signed bytes at {@code offset}, sign-extended to 16-bit lanes. */
    static ShortVector bytes(MemorySegment data, long offset) {
        return (ShortVector) ByteVector.fromMemorySegment(BYTE, data, offset, LE)
                .convertShape(VectorOperators.B2S, SHORT, 0);
    }

    /**
     * {@link #SL} bytes at {@code offset} read as unsigned, zero-extended to 16-bit lanes: packed nibbles, whose
     * high half is then one shift with nothing to mask.
     */
    static ShortVector unsignedBytes(MemorySegment data, long offset) {
        return (ShortVector) ByteVector.fromMemorySegment(BYTE, data, offset, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, SHORT, 0);
    }

    /** {@link #SL} quantized activations from {@code q[off ..]}. */
    static ShortVector act(short[] q, int off) {
        return ShortVector.fromArray(SHORT, q, off);
    }

    /**
     * Adjacent 16-bit lanes added into 32-bit lanes (int lane i = short lanes 2i + 2i+1), exact: each 16-bit
     * lane is sign-extended first.
     */
    static IntVector pairSums(ShortVector p) {
        IntVector w = p.reinterpretAsInts();
        return w.lanewise(VectorOperators.ASHR, 16)
                .add(w.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16));
    }

    /**
     * {@link #pairSums} in three ops instead of four, where every pair of adjacent lanes sums to less than 2^15 in
     * magnitude (the nibble and six-bit types; not Q8_0, whose lanes already hold two products of up to 128 * 127).
     * NOTE: {@code w + (w << 16)} puts {@code (high + low) mod 2^16} in the upper half of each 32-bit lane, with no
     * carry from below (the low half is the low lane's bits alone), and the arithmetic shift reads it as signed:
     * the same integers as {@link #pairSums} whenever that sum fits.
     */
    static IntVector narrowPairSums(ShortVector p) {
        IntVector w = p.reinterpretAsInts();
        return w.add(w.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
    }

    /** {@code acc + float(sums) * scale}, one rounding (FMA). */
    static FloatVector accumulate(IntVector sums, float scale, FloatVector acc) {
        return ((FloatVector) sums.convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(FLOAT, scale), acc);
    }

    /** IEEE half at {@code offset} as a float. */
    static float half(MemorySegment data, long offset) {
        return Float.float16ToFloat(data.get(SHORT_LE, offset));
    }

    /**
     * Sum of all lanes in {@link LaneTree}'s fixed order, as {@link Vectors#sum}: the kernels' results must not
     * depend on the JIT state or the kernel that produced them.
     */
    static float sum(FloatVector v) {
        return TREE.sum(v);
    }
}
