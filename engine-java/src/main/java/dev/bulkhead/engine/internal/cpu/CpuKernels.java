package dev.bulkhead.engine.internal.cpu;

import static dev.bulkhead.engine.internal.cpu.Vectors.FLOAT;
import static dev.bulkhead.engine.internal.cpu.Vectors.LANES;

import dev.bulkhead.model.config.RopeStyle;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The element-wise and reduction kernels of the forward pass, on float arrays with offsets. Static,
 * allocation free and deterministic: reductions use a fixed order, and exponentials use {@link FloatExp},
 * computed identically in the interpreter and in compiled code.
 */
public final class CpuKernels {

    private CpuKernels() {
    }

    /**
     * RMSNorm as Hugging Face computes it in fp32: {@code out = weight * (x * rsqrt(mean(x^2) + eps))}.
     * {@code out} may be {@code x} at the same offset.
     */
    public static void rmsNorm(float[] out, int outOff, float[] x, int xOff, float[] weight, int size, float eps) {
        float ss = Vectors.dot(x, xOff, x, xOff, size);
        // NOTE: sqrt in double then rounded is the correctly rounded float sqrt; 1/that in float is what
        // torch.rsqrt does on fp32 CPU tensors.
        float inv = 1.0f / (float) Math.sqrt(ss / size + eps);
        int upper = FLOAT.loopBound(size);
        int i = 0;
        for (; i < upper; i += LANES) {
            FloatVector xv = FloatVector.fromArray(FLOAT, x, xOff + i).mul(inv);
            FloatVector.fromArray(FLOAT, weight, i).mul(xv).intoArray(out, outOff + i);
        }
        for (; i < size; i++) {
            out[outOff + i] = weight[i] * (x[xOff + i] * inv);
        }
    }

    /** {@code dst[dstOff + i] += src[srcOff + i]} for i in [0, n). */
    public static void add(float[] dst, int dstOff, float[] src, int srcOff, int n) {
        int upper = FLOAT.loopBound(n);
        int i = 0;
        for (; i < upper; i += LANES) {
            FloatVector.fromArray(FLOAT, dst, dstOff + i).add(FloatVector.fromArray(FLOAT, src, srcOff + i))
                    .intoArray(dst, dstOff + i);
        }
        for (; i < n; i++) {
            dst[dstOff + i] += src[srcOff + i];
        }
    }

    /**
     * SwiGLU: {@code gate[i] = silu(gate[i]) * up[i]} with {@code silu(g) = g / (1 + exp(-g))}, the exponential
     * by {@link FloatExp} (vector lanes and the scalar tail alike).
     */
    public static void siluMul(float[] gate, int gOff, float[] up, int uOff, int n) {
        int upper = FLOAT.loopBound(n);
        int i = 0;
        for (; i < upper; i += LANES) {
            FloatVector g = FloatVector.fromArray(FLOAT, gate, gOff + i);
            g.div(FloatExp.exp(g.neg()).add(1f)).mul(FloatVector.fromArray(FLOAT, up, uOff + i))
                    .intoArray(gate, gOff + i);
        }
        for (; i < n; i++) {
            float g = gate[gOff + i];
            gate[gOff + i] = g / (FloatExp.exp(-g) + 1f) * up[uOff + i];
        }
    }

    /**
     * In-place softmax of {@code x[off, off + n)}: exponentials of {@code x - max} ({@link FloatExp}) over their
     * sum, taken per lane and then in {@link LaneTree}'s order, then the tail in order.
     */
    public static void softmax(float[] x, int off, int n) {
        if (n < 1) {
            throw new IllegalArgumentException("softmax needs n >= 1, got " + n);
        }
        int upper = FLOAT.loopBound(n);
        int i = 0;
        FloatVector mv = FloatVector.broadcast(FLOAT, Float.NEGATIVE_INFINITY);
        for (; i < upper; i += LANES) {
            mv = mv.max(FloatVector.fromArray(FLOAT, x, off + i));
        }
        // NOTE: max is exact, so the lane reduction order does not matter here.
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        FloatVector mx = FloatVector.broadcast(FLOAT, max);
        FloatVector sv = FloatVector.zero(FLOAT);
        i = 0;
        for (; i < upper; i += LANES) {
            FloatVector e = FloatExp.exp(FloatVector.fromArray(FLOAT, x, off + i).sub(mx));
            e.intoArray(x, off + i);
            sv = sv.add(e);
        }
        float sum = Vectors.sum(sv);
        for (; i < n; i++) {
            float e = FloatExp.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        i = 0;
        for (; i < upper; i += LANES) {
            FloatVector.fromArray(FLOAT, x, off + i).div(sum).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] /= sum;
        }
    }

    /** {@code sum_i a[aOff + i] * b[bOff + i]}, accumulated in float in a fixed order. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        return Vectors.dot(a, aOff, b, bOff, n);
    }

    /**
     * Rotates the first {@code table.rotaryDim()} dimensions of each of {@code numHeads} heads of
     * {@code headDim} floats, stored contiguously from {@code off}, by the angles of position {@code pos}.
     * {@link RopeStyle#NEOX} pairs dimension i with i + rotaryDim/2 (transformers' {@code rotate_half});
     * {@link RopeStyle#INTERLEAVED} pairs 2i with 2i+1 (Meta, llama2.c, GGUF llama).
     */
    public static void rope(float[] v, int off, int numHeads, int headDim, int pos, RopeTable table,
                            RopeStyle style) {
        int rot = table.rotaryDim();
        if (rot > headDim) {
            throw new IllegalArgumentException("RoPE rotates " + rot + " dimensions but headDim is " + headDim);
        }
        int half = rot / 2;
        int row = table.rowOffset(pos);
        float[] cos = table.cosTable();
        float[] sin = table.sinTable();
        for (int h = 0; h < numHeads; h++) {
            int base = off + h * headDim;
            for (int i = 0; i < half; i++) {
                float c = cos[row + i];
                float s = sin[row + i];
                int a = style == RopeStyle.NEOX ? base + i : base + 2 * i;
                int b = style == RopeStyle.NEOX ? a + half : a + 1;
                float x1 = v[a];
                float x2 = v[b];
                v[a] = x1 * c - x2 * s;
                v[b] = x2 * c + x1 * s;
            }
        }
    }
}
