package dev.bulkhead.bench;

import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.WeightTensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/**
 * Random but well-formed weight matrices for benchmarks: finite normal values (no NaN or subnormal inputs,
 * which would make the timings lie) and small f16 block scales for the quantized types.
 */
final class WeightFactory {

    private static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private WeightFactory() {
    }

    static WeightTensor random(Arena arena, DType type, int rows, int cols, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        long elements = (long) rows * cols;
        long bytes = type.byteSize(elements);
        MemorySegment seg = arena.allocate(bytes, 64);
        switch (type) {
            case F32 -> {
                for (long i = 0; i < elements; i++) {
                    seg.set(FLOAT_LE, 4 * i, (float) (rnd.nextDouble() - 0.5));
                }
            }
            case F16 -> {
                for (long i = 0; i < elements; i++) {
                    seg.set(SHORT_LE, 2 * i, Float.floatToFloat16((float) (rnd.nextDouble() - 0.5)));
                }
            }
            case BF16 -> {
                for (long i = 0; i < elements; i++) {
                    float f = (float) (rnd.nextDouble() - 0.5);
                    seg.set(SHORT_LE, 2 * i, (short) (Float.floatToRawIntBits(f) >>> 16));
                }
            }
            case Q8_0, Q4_0, Q4_K, Q6_K -> {
                for (long i = 0; i < bytes; i += 8) {
                    long v = rnd.nextLong();
                    for (long j = i; j < Math.min(bytes, i + 8); j++) {
                        seg.set(ValueLayout.JAVA_BYTE, j, (byte) (v >>> (8 * (j - i))));
                    }
                }
                long scaleOffset = type == DType.Q6_K ? 208 : 0;
                for (long b = 0; b < bytes; b += type.bytesPerBlock()) {
                    seg.set(SHORT_LE, b + scaleOffset, Float.floatToFloat16(0.01f));
                    if (type == DType.Q4_K) {
                        seg.set(SHORT_LE, b + 2, Float.floatToFloat16(0.002f));
                    }
                }
            }
        }
        return new WeightTensor("bench." + type, type, new long[] {rows, cols}, seg.asReadOnly());
    }
}
