package dev.bulkhead.model.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Scalar conversion of stored weights to {@code float}, in ggml's exact block layouts (little endian).
 * Deliberately plain: it is the oracle every vectorised or CUDA kernel is tested against, so each type
 * follows ggml's reference {@code dequantize_row_*} loop order and arithmetic order.
 */
public final class Dequantizer {

    private static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int QK_K = 256;

    private Dequantizer() {
    }

    /**
     * Converts {@code count} consecutive values of {@code type} starting at {@code srcByteOffset} of
     * {@code src} into {@code dst[dstOff .. dstOff + count)}.
     *
     * @param type          storage type of the source bytes
     * @param src           source bytes (any alignment)
     * @param srcByteOffset byte offset of the first value; must be at a block boundary of {@code type}
     * @param dst           destination
     * @param dstOff        first destination index
     * @param count         number of values; must be a multiple of {@link DType#blockSize()}
     * @throws IllegalArgumentException when {@code count} is negative or not a multiple of the block size
     * @throws IndexOutOfBoundsException when the source or destination range is out of bounds
     */
    public static void dequantize(DType type, MemorySegment src, long srcByteOffset, float[] dst, int dstOff,
                                  int count) {
        if (count < 0 || count % type.blockSize() != 0) {
            throw new IllegalArgumentException("count must be a non-negative multiple of " + type.blockSize()
                    + " for " + type + ", got " + count);
        }
        Objects.checkFromIndexSize(dstOff, count, dst.length);
        Objects.checkFromIndexSize(srcByteOffset, type.byteSize(count), src.byteSize());
        int blocks = count / type.blockSize();
        long in = srcByteOffset;
        int out = dstOff;
        for (int b = 0; b < blocks; b++) {
            switch (type) {
                case F32 -> dst[out] = src.get(FLOAT_LE, in);
                case F16 -> dst[out] = f16ToFloat(src.get(SHORT_LE, in));
                case BF16 -> dst[out] = bf16ToFloat(src.get(SHORT_LE, in));
                case Q8_0 -> q8_0(src, in, dst, out);
                case Q4_0 -> q4_0(src, in, dst, out);
                case Q4_K -> q4_K(src, in, dst, out);
                case Q6_K -> q6_K(src, in, dst, out);
            }
            in += type.bytesPerBlock();
            out += type.blockSize();
        }
    }

    /** IEEE half precision bits to float. */
    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** bfloat16 bits (the upper half of a float) to float. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Block: f16 d, int8 qs[32]; y = d * q. */
    private static void q8_0(MemorySegment src, long in, float[] dst, int out) {
        float d = f16ToFloat(src.get(SHORT_LE, in));
        for (int j = 0; j < 32; j++) {
            dst[out + j] = src.get(ValueLayout.JAVA_BYTE, in + 2 + j) * d;
        }
    }

    /** Block: f16 d, uint8 qs[16]; low nibbles are values 0..15, high nibbles 16..31, offset by 8. */
    private static void q4_0(MemorySegment src, long in, float[] dst, int out) {
        float d = f16ToFloat(src.get(SHORT_LE, in));
        for (int j = 0; j < 16; j++) {
            int q = ubyte(src, in + 2 + j);
            dst[out + j] = ((q & 0x0F) - 8) * d;
            dst[out + j + 16] = ((q >>> 4) - 8) * d;
        }
    }

    /**
     * Super-block: f16 d, f16 dmin, 12 bytes of eight 6-bit (scale, min) pairs, 128 bytes of nibbles. Each
     * 64 values share 32 bytes: low nibbles give the first 32 (sub-block 2g), high nibbles the next 32.
     */
    private static void q4_K(MemorySegment src, long in, float[] dst, int out) {
        float d = f16ToFloat(src.get(SHORT_LE, in));
        float dmin = f16ToFloat(src.get(SHORT_LE, in + 2));
        long scales = in + 4;
        long qs = in + 16;
        int y = out;
        for (int group = 0; group < QK_K / 64; group++) {
            int sub = 2 * group;
            float d1 = d * q4kScale(src, scales, sub);
            float m1 = dmin * q4kMin(src, scales, sub);
            float d2 = d * q4kScale(src, scales, sub + 1);
            float m2 = dmin * q4kMin(src, scales, sub + 1);
            long q = qs + 32L * group;
            for (int l = 0; l < 32; l++) {
                dst[y + l] = d1 * (ubyte(src, q + l) & 0x0F) - m1;
            }
            for (int l = 0; l < 32; l++) {
                dst[y + 32 + l] = d2 * (ubyte(src, q + l) >>> 4) - m2;
            }
            y += 64;
        }
    }

    /** 6-bit scale of sub-block j (0..7), ggml's {@code get_scale_min_k4}. */
    private static int q4kScale(MemorySegment src, long scales, int j) {
        if (j < 4) {
            return ubyte(src, scales + j) & 63;
        }
        return (ubyte(src, scales + j + 4) & 0x0F) | ((ubyte(src, scales + j - 4) >>> 6) << 4);
    }

    /** 6-bit min of sub-block j (0..7), ggml's {@code get_scale_min_k4}. */
    private static int q4kMin(MemorySegment src, long scales, int j) {
        if (j < 4) {
            return ubyte(src, scales + j + 4) & 63;
        }
        return (ubyte(src, scales + j + 4) >>> 4) | ((ubyte(src, scales + j) >>> 6) << 4);
    }

    /**
     * Super-block: ql[128] low 4 bits, qh[64] high 2 bits, int8 scales[16] (one per 16 values), f16 d.
     * Each half of 128 values uses 64 bytes of ql, 32 of qh and 8 scales.
     */
    private static void q6_K(MemorySegment src, long in, float[] dst, int out) {
        float d = f16ToFloat(src.get(SHORT_LE, in + 208));
        for (int half = 0; half < 2; half++) {
            long ql = in + 64L * half;
            long qh = in + 128 + 32L * half;
            long sc = in + 192 + 8L * half;
            int y = out + 128 * half;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int h = ubyte(src, qh + l);
                int lo0 = ubyte(src, ql + l);
                int lo32 = ubyte(src, ql + l + 32);
                int q1 = ((lo0 & 0x0F) | ((h & 3) << 4)) - 32;
                int q2 = ((lo32 & 0x0F) | (((h >>> 2) & 3) << 4)) - 32;
                int q3 = ((lo0 >>> 4) | (((h >>> 4) & 3) << 4)) - 32;
                int q4 = ((lo32 >>> 4) | (((h >>> 6) & 3) << 4)) - 32;
                dst[y + l] = d * sbyte(src, sc + is) * q1;
                dst[y + l + 32] = d * sbyte(src, sc + is + 2) * q2;
                dst[y + l + 64] = d * sbyte(src, sc + is + 4) * q3;
                dst[y + l + 96] = d * sbyte(src, sc + is + 6) * q4;
            }
        }
    }

    private static int ubyte(MemorySegment src, long offset) {
        return src.get(ValueLayout.JAVA_BYTE, offset) & 0xFF;
    }

    private static int sbyte(MemorySegment src, long offset) {
        return src.get(ValueLayout.JAVA_BYTE, offset);
    }
}
