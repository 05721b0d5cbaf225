package dev.bulkhead.engine.internal.cuda;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Host-side bf16 packing for weight upload: round to nearest even, NaN kept quiet (as {@code __float2bfloat16}). */
public final class Bf16 {

    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;

    private Bf16() {
    }

    /** The bf16 bits nearest to {@code f} (ties to even). */
    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    public static float toFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** Writes {@code n} floats from {@code src[srcOff..]} as bf16 into {@code dst} at element {@code dstIndex}. */
    public static void pack(float[] src, int srcOff, MemorySegment dst, long dstIndex, int n) {
        for (int i = 0; i < n; i++) {
            dst.setAtIndex(SHORT, dstIndex + i, fromFloat(src[srcOff + i]));
        }
    }
}
