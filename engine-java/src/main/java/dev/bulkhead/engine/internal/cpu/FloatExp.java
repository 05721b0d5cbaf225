package dev.bulkhead.engine.internal.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * {@code e^x} in float for softmax and SiLU, as a vector and as its scalar twin that gives the same bits lane for lane:
 * {@code x = n ln2 + r} with n the nearest integer to {@code x / ln2}, {@code e^r} by a degree-6 polynomial
 * (Cephes' {@code expf} coefficients, within 2 ulp of {@link Math#exp} rounded to float), and {@code 2^n}
 * added to the exponent bits.
 *
 * <p>NOTE: softmax took one {@link Math#exp} per position, a seventh of a 2k-token prefill's samples (SiLU,
 * one per FFN activation, 3%). Only
 * IEEE operations the Vector API defines exactly (multiply, FMA, add, compare, bit moves) are used, never
 * {@code lanewise(EXP)}, whose result may differ between the interpreter and C2: the CPU backend must give
 * the same bits whatever the JIT state.
 *
 * <p>Below {@value #MIN_X} (where e^x is subnormal) the result is 0; above {@value #MAX_X} it is that bound's
 * value. Softmax only takes {@code x - max <= 0}; SiLU's {@code g / (1 + e^-g)} is then 0 or g to float
 * precision anyway.
 */
final class FloatExp {

    static final float MIN_X = -87.33654f;
    static final float MAX_X = 88f;
    private static final float LOG2E = 1.44269504088896341f;
    /** 1.5 * 2^23: added to a float below 2^22 in magnitude, it leaves the nearest integer in the low bits. */
    private static final float ROUNDER = 12582912f;
    private static final int ROUNDER_BITS = Float.floatToRawIntBits(ROUNDER);
    /** ln 2 in two parts (Cody and Waite), so that {@code x - n ln2} loses no bits for |n| <= 128. */
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;

    private FloatExp() {
    }

    static FloatVector exp(FloatVector x) {
        VectorMask<Float> underflow = x.compare(VectorOperators.LT, MIN_X);
        x = x.max(MIN_X).min(MAX_X);
        FloatVector t = x.fma(LOG2E, ROUNDER);
        FloatVector n = t.sub(ROUNDER);
        FloatVector r = n.fma(x.broadcast(-LN2_HI), x);
        r = n.fma(x.broadcast(-LN2_LO), r);
        FloatVector p = r.fma(P0, P1);
        p = p.fma(r, x.broadcast(P2));
        p = p.fma(r, x.broadcast(P3));
        p = p.fma(r, x.broadcast(P4));
        p = p.fma(r, x.broadcast(P5));
        FloatVector r2 = r.mul(r);
        FloatVector er = p.fma(r2, r.add(1f));
        IntVector bits = t.reinterpretAsInts().sub(ROUNDER_BITS - 127).lanewise(VectorOperators.LSHL, 23);
        return er.mul(bits.reinterpretAsFloats()).blend(0f, underflow);
    }

    /** {@link #exp(FloatVector)} for one float, the same operations in the same order. */
    static float exp(float x) {
        if (x < MIN_X) {
            return 0f;
        }
        x = Math.min(Math.max(x, MIN_X), MAX_X);
        float t = Math.fma(x, LOG2E, ROUNDER);
        float n = t - ROUNDER;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, P0, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float r2 = r * r;
        float er = Math.fma(p, r2, r + 1f);
        int bits = (Float.floatToRawIntBits(t) - (ROUNDER_BITS - 127)) << 23;
        return er * Float.intBitsToFloat(bits);
    }
}
