package dev.bulkhead.engine.internal.cpu;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Species and small shared building blocks of the CPU kernels: a reproducible horizontal sum, an array dot
 * product, and the bfloat16 conversion done in vector registers.
 */
final class Vectors {

    /**
     * The float species of every kernel: the preferred one, capped at 512 bits because the quantized kernels
     * walk 32-value blocks and need at most 16 float lanes per step.
     */
    static final VectorSpecies<Float> FLOAT = FloatVector.SPECIES_PREFERRED.length() > 16
            ? FloatVector.SPECIES_512 : FloatVector.SPECIES_PREFERRED;
    static final int LANES = FLOAT.length();
    private static final LaneTree TREE = LaneTree.of(FLOAT);
    static final VectorSpecies<Integer> INT = VectorSpecies.of(int.class, FLOAT.vectorShape());
    /** As many 16-bit lanes as {@link #FLOAT} has float lanes (half its width). */
    static final VectorSpecies<Short> SHORT = VectorSpecies.of(short.class, VectorShape.forBitSize(LANES * 16));

    static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Vectors() {
    }

    /**
     * Sum of all lanes in {@link LaneTree}'s fixed order. The CPU backend is the reference and must give
     * bit-identical results for a row whatever the batch, split or JIT state.
     */
    static float sum(FloatVector v) {
        return TREE.sum(v);
    }

    /** Lane i is {@code sum(v_i)}, bit for bit; only where {@link #LANES} is 8 ({@link LaneTree#sums}). */
    static FloatVector sums(FloatVector v0, FloatVector v1, FloatVector v2, FloatVector v3, FloatVector v4,
                            FloatVector v5, FloatVector v6, FloatVector v7) {
        return TREE.sums(v0, v1, v2, v3, v4, v5, v6, v7);
    }

    /** {@code sum_i a[aOff + i] * b[bOff + i]} with one vector accumulator, then a fused scalar tail. */
    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc = FloatVector.zero(FLOAT);
        int upper = FLOAT.loopBound(n);
        int i = 0;
        for (; i < upper; i += LANES) {
            acc = FloatVector.fromArray(FLOAT, a, aOff + i).fma(FloatVector.fromArray(FLOAT, b, bOff + i), acc);
        }
        float s = sum(acc);
        for (; i < n; i++) {
            s = Math.fma(a[aOff + i], b[bOff + i], s);
        }
        return s;
    }

    /**
     * Four rows of {@code w} (at {@code wOff + i * stride}) against one {@code x}: {@code out[outOff + i]},
     * each summed exactly as {@link #dot} does, with four independent FMA chains.
     */
    static void dot4Rows(float[] w, int wOff, int stride, float[] x, int xOff, int n, float[] out, int outOff,
                         int outStride) {
        int w1 = wOff + stride;
        int w2 = w1 + stride;
        int w3 = w2 + stride;
        FloatVector a0 = FloatVector.zero(FLOAT);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int upper = FLOAT.loopBound(n);
        for (int i = 0; i < upper; i += LANES) {
            FloatVector xv = FloatVector.fromArray(FLOAT, x, xOff + i);
            a0 = FloatVector.fromArray(FLOAT, w, wOff + i).fma(xv, a0);
            a1 = FloatVector.fromArray(FLOAT, w, w1 + i).fma(xv, a1);
            a2 = FloatVector.fromArray(FLOAT, w, w2 + i).fma(xv, a2);
            a3 = FloatVector.fromArray(FLOAT, w, w3 + i).fma(xv, a3);
        }
        out[outOff] = tail(w, wOff, x, xOff, upper, n, sum(a0));
        out[outOff + outStride] = tail(w, w1, x, xOff, upper, n, sum(a1));
        out[outOff + 2 * outStride] = tail(w, w2, x, xOff, upper, n, sum(a2));
        out[outOff + 3 * outStride] = tail(w, w3, x, xOff, upper, n, sum(a3));
    }

    /**
     * One row {@code w} against four tokens (at {@code xOff + j * xStride}): {@code out[outOff + j *
     * outStride]}, each summed exactly as {@link #dot} does.
     */
    static void dot4Tokens(float[] w, int wOff, float[] x, int xOff, int xStride, int n, float[] out, int outOff,
                           int outStride) {
        int x1 = xOff + xStride;
        int x2 = x1 + xStride;
        int x3 = x2 + xStride;
        FloatVector a0 = FloatVector.zero(FLOAT);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int upper = FLOAT.loopBound(n);
        for (int i = 0; i < upper; i += LANES) {
            FloatVector wv = FloatVector.fromArray(FLOAT, w, wOff + i);
            a0 = wv.fma(FloatVector.fromArray(FLOAT, x, xOff + i), a0);
            a1 = wv.fma(FloatVector.fromArray(FLOAT, x, x1 + i), a1);
            a2 = wv.fma(FloatVector.fromArray(FLOAT, x, x2 + i), a2);
            a3 = wv.fma(FloatVector.fromArray(FLOAT, x, x3 + i), a3);
        }
        out[outOff] = tail(w, wOff, x, xOff, upper, n, sum(a0));
        out[outOff + outStride] = tail(w, wOff, x, x1, upper, n, sum(a1));
        out[outOff + 2 * outStride] = tail(w, wOff, x, x2, upper, n, sum(a2));
        out[outOff + 3 * outStride] = tail(w, wOff, x, x3, upper, n, sum(a3));
    }

    /**
     * Two rows of {@code w} (at {@code wOff} and {@code wOff + n}) against four tokens (at {@code xOff + j *
     * xStride}): {@code out[outOff + i + j * outStride]}, each summed exactly as {@link #dot} does. Eight FMA
     * chains fed by six loads, the register tile of the F32 kernel, over arrays.
     */
    static void dot2Rows4Tokens(float[] w, int wOff, float[] x, int xOff, int xStride, int n, float[] out,
                                int outOff, int outStride) {
        int w1 = wOff + n;
        int x1 = xOff + xStride;
        int x2 = x1 + xStride;
        int x3 = x2 + xStride;
        FloatVector a0 = FloatVector.zero(FLOAT);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector c0 = a0;
        FloatVector c1 = a0;
        FloatVector c2 = a0;
        FloatVector c3 = a0;
        int upper = FLOAT.loopBound(n);
        for (int i = 0; i < upper; i += LANES) {
            LoopShape.keepRolled(i);
            FloatVector v0 = FloatVector.fromArray(FLOAT, w, wOff + i);
            FloatVector v1 = FloatVector.fromArray(FLOAT, w, w1 + i);
            FloatVector t0 = FloatVector.fromArray(FLOAT, x, xOff + i);
            FloatVector t1 = FloatVector.fromArray(FLOAT, x, x1 + i);
            FloatVector t2 = FloatVector.fromArray(FLOAT, x, x2 + i);
            FloatVector t3 = FloatVector.fromArray(FLOAT, x, x3 + i);
            a0 = v0.fma(t0, a0);
            a1 = v0.fma(t1, a1);
            a2 = v0.fma(t2, a2);
            a3 = v0.fma(t3, a3);
            c0 = v1.fma(t0, c0);
            c1 = v1.fma(t1, c1);
            c2 = v1.fma(t2, c2);
            c3 = v1.fma(t3, c3);
        }
        out[outOff] = tail(w, wOff, x, xOff, upper, n, sum(a0));
        out[outOff + outStride] = tail(w, wOff, x, x1, upper, n, sum(a1));
        out[outOff + 2 * outStride] = tail(w, wOff, x, x2, upper, n, sum(a2));
        out[outOff + 3 * outStride] = tail(w, wOff, x, x3, upper, n, sum(a3));
        out[outOff + 1] = tail(w, w1, x, xOff, upper, n, sum(c0));
        out[outOff + 1 + outStride] = tail(w, w1, x, x1, upper, n, sum(c1));
        out[outOff + 1 + 2 * outStride] = tail(w, w1, x, x2, upper, n, sum(c2));
        out[outOff + 1 + 3 * outStride] = tail(w, w1, x, x3, upper, n, sum(c3));
    }

    /** {@code s} plus the products of positions [from, n), one FMA each in order: the scalar tail of {@link #dot}. */
    static float tail(float[] a, int aOff, float[] b, int bOff, int from, int n, float s) {
        for (int i = from; i < n; i++) {
            s = Math.fma(a[aOff + i], b[bOff + i], s);
        }
        return s;
    }

    /** bfloat16 bits (one per lane, as loaded) to floats: the bits are the upper half of a float. */
    static FloatVector bf16ToFloat(ShortVector bits) {
        IntVector wide = (IntVector) bits.convertShape(VectorOperators.S2I, INT, 0);
        return wide.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }
}
