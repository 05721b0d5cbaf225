package dev.bulkhead.engine.internal.cpu;

import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.Dequantizer;
import dev.bulkhead.model.tensor.WeightTensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

/**
 * Random weight tensors in each storage type, with the float value of every weight computed here by the
 * format's definition (independently of the code under test), except for the K-quants whose values come
 * from the scalar {@link Dequantizer} oracle.
 */
final class TestTensors {

    static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** A tensor and the float value of each of its weights, row-major. */
    record Built(WeightTensor tensor, float[] weights) {
    }

    private TestTensors() {
    }

    /**
     * A read-only tensor of random weights. The segment starts at an odd address offset so no kernel can
     * rely on alignment.
     */
    static Built random(DType type, int rows, int cols, Random rnd) {
        long bytes = type.byteSize((long) rows * cols);
        MemorySegment backing = Arena.ofAuto().allocate(bytes + 8, 16);
        MemorySegment seg = backing.asSlice(3, bytes);
        float[] w = new float[rows * cols];
        switch (type) {
            case F32 -> {
                for (int i = 0; i < w.length; i++) {
                    w[i] = (float) rnd.nextGaussian();
                    seg.set(FLOAT_LE, 4L * i, w[i]);
                }
            }
            case BF16 -> {
                for (int i = 0; i < w.length; i++) {
                    short bits = (short) (Float.floatToRawIntBits((float) rnd.nextGaussian()) >>> 16);
                    w[i] = Float.intBitsToFloat((bits & 0xFFFF) << 16);
                    seg.set(SHORT_LE, 2L * i, bits);
                }
            }
            case F16 -> {
                for (int i = 0; i < w.length; i++) {
                    short bits = Float.floatToFloat16((float) rnd.nextGaussian());
                    w[i] = Float.float16ToFloat(bits);
                    seg.set(SHORT_LE, 2L * i, bits);
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < w.length / 32; b++) {
                    long o = 34L * b;
                    float d = scale(seg, o, rnd);
                    for (int j = 0; j < 32; j++) {
                        byte q = (byte) (rnd.nextInt(256) - 128);
                        seg.set(ValueLayout.JAVA_BYTE, o + 2 + j, q);
                        w[b * 32 + j] = q * d;
                    }
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < w.length / 32; b++) {
                    long o = 18L * b;
                    float d = scale(seg, o, rnd);
                    for (int j = 0; j < 16; j++) {
                        int lo = rnd.nextInt(16);
                        int hi = rnd.nextInt(16);
                        seg.set(ValueLayout.JAVA_BYTE, o + 2 + j, (byte) (lo | hi << 4));
                        w[b * 32 + j] = (lo - 8) * d;
                        w[b * 32 + 16 + j] = (hi - 8) * d;
                    }
                }
            }
            case Q4_K, Q6_K -> {
                byte[] raw = new byte[(int) bytes];
                rnd.nextBytes(raw);
                MemorySegment.copy(raw, 0, seg, ValueLayout.JAVA_BYTE, 0, raw.length);
                int dOffset = type == DType.Q4_K ? 0 : 208;
                for (long o = 0; o < bytes; o += type.bytesPerBlock()) {
                    scale(seg, o + dOffset, rnd);
                    if (type == DType.Q4_K) {
                        scale(seg, o + 2, rnd);
                    }
                }
                Dequantizer.dequantize(type, seg, 0, w, 0, w.length);
            }
        }
        WeightTensor t = new WeightTensor("test." + type, type, new long[] {rows, cols}, seg.asReadOnly());
        return new Built(t, w);
    }

    /** Writes a random f16 scale at {@code offset} and returns its float value. */
    private static float scale(MemorySegment seg, long offset, Random rnd) {
        short bits = Float.floatToFloat16(0.001f + 0.05f * rnd.nextFloat());
        seg.set(SHORT_LE, offset, bits);
        return Float.float16ToFloat(bits);
    }

    static float[] gaussian(int n, Random rnd) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }
}
