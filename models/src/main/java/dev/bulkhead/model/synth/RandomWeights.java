package dev.bulkhead.model.synth;

import dev.bulkhead.model.safetensors.SafetensorsWriter.TensorContent;
import dev.bulkhead.model.safetensors.SafetensorsWriter.TensorSpec;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Deterministic random weights for a checkpoint: element {@code i} of tensor {@code name} is a pure function
 * of {@code (seed, name, i)}, so the bytes do not depend on chunking, tensor order or sharding, and chunks
 * can be filled in any order or in parallel.
 *
 * <p>Values are approximately normal: the SplitMix64 hash of the element's counter is cut into four 16-bit
 * uniforms whose sum (Irwin–Hall, n = 4) is rescaled to zero mean and unit variance; one hash per element
 * keeps the 1B shape in bf16 to seconds, where {@code Random.nextGaussian} would take minutes. Matrices and
 * biases get {@code N(0, 0.02)} like transformers' {@code initializer_range}; norm weights get
 * {@code 1 + N(0, 0.02)}, so activations stay O(1) through every pre-norm layer and the logits vary.
 */
public final class RandomWeights implements TensorContent {

    /** Standard deviation of every weight (transformers' default {@code initializer_range}). */
    public static final float STD = 0.02f;

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    /** Mean of the sum of four uniform 16-bit integers. */
    private static final float SUM_MEAN = 4 * 65535 / 2f;
    /** 1 / standard deviation of that sum: sqrt(4 * (65536^2 - 1) / 12). */
    private static final float SUM_INV_STD = (float) (1 / Math.sqrt(4 * (65536.0 * 65536.0 - 1) / 12));

    private final long seed;

    public RandomWeights(long seed) {
        this.seed = seed;
    }

    @Override
    public void fill(TensorSpec tensor, long firstElement, MemorySegment target) {
        long key = tensorKey(seed, tensor.name());
        float mean = isNorm(tensor.name()) ? 1f : 0f;
        long n = target.byteSize() / tensor.elementBytes();
        switch (tensor.dtype()) {
            case F32 -> {
                for (long i = 0; i < n; i++) {
                    target.setAtIndex(F32, i, value(key, firstElement + i, mean));
                }
            }
            case F16 -> {
                for (long i = 0; i < n; i++) {
                    target.setAtIndex(F16, i, Float.floatToFloat16(value(key, firstElement + i, mean)));
                }
            }
            case BF16 -> {
                for (long i = 0; i < n; i++) {
                    target.setAtIndex(F16, i, toBf16(value(key, firstElement + i, mean)));
                }
            }
            default -> throw new IllegalArgumentException("tensor " + tensor.name() + ": cannot generate " + tensor.dtype());
        }
    }

    /** Element {@code index} of the tensor with key {@code key}, before rounding to the storage type. */
    static float value(long key, long index, float mean) {
        long h = mix(key + index * GOLDEN);
        long sum = (h & 0xFFFF) + ((h >>> 16) & 0xFFFF) + ((h >>> 32) & 0xFFFF) + (h >>> 48);
        return mean + STD * ((sum - SUM_MEAN) * SUM_INV_STD);
    }

    /** Norm weights (input/post-attention/final norms, Qwen3's q/k norms) scale activations, so they start near 1. */
    static boolean isNorm(String name) {
        return name.endsWith("norm.weight");
    }

    /** Per-tensor stream key: FNV-1a of the name's UTF-8 bytes, mixed with the seed. */
    static long tensorKey(long seed, String name) {
        long h = 0xcbf29ce484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xFF)) * 0x100000001b3L;
        }
        return mix(mix(seed) ^ h);
    }

    /** Round-to-nearest-even float to bfloat16 (the values here are finite). */
    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** SplitMix64's finalizer: a bijective 64-bit mix with good avalanche. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
