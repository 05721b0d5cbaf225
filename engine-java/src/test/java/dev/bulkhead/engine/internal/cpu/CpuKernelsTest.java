package dev.bulkhead.engine.internal.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.bulkhead.model.config.RopeStyle;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CpuKernelsTest {

    private static final int[] SIZES = {1, 5, 16, 17, 64, 100, 768};

    @Test
    void rmsNormMatchesDoubleOracle() {
        Random rnd = new Random(1);
        for (int n : SIZES) {
            float[] x = offsetCopy(TestTensors.gaussian(n, rnd), 3);
            float[] w = TestTensors.gaussian(n, rnd);
            float eps = 1e-5f;
            float[] out = new float[n + 2];
            CpuKernels.rmsNorm(out, 2, x, 3, w, n, eps);
            double ss = 0;
            for (int i = 0; i < n; i++) {
                ss += (double) x[3 + i] * x[3 + i];
            }
            double inv = 1 / Math.sqrt(ss / n + eps);
            for (int i = 0; i < n; i++) {
                double expected = w[i] * x[3 + i] * inv;
                // NOTE: float sum of squares (relative error <= n * 2^-24) and three roundings after it.
                double tol = (n + 4) * 0x1p-24 * Math.abs(expected) + 1e-30;
                assertThat((double) out[2 + i]).as("n=%d i=%d", n, i).isCloseTo(expected, within(tol));
            }
            float[] inPlace = x.clone();
            CpuKernels.rmsNorm(inPlace, 3, inPlace, 3, w, n, eps);
            assertThat(Arrays.copyOfRange(inPlace, 3, 3 + n)).isEqualTo(Arrays.copyOfRange(out, 2, 2 + n));
        }
    }

    @Test
    void addIsElementwiseFloatAddition() {
        Random rnd = new Random(2);
        for (int n : SIZES) {
            float[] dst = offsetCopy(TestTensors.gaussian(n, rnd), 1);
            float[] src = offsetCopy(TestTensors.gaussian(n, rnd), 4);
            float[] before = dst.clone();
            CpuKernels.add(dst, 1, src, 4, n);
            assertThat(dst[0]).isEqualTo(before[0]);
            for (int i = 0; i < n; i++) {
                assertThat(dst[1 + i]).isEqualTo((float) ((double) before[1 + i] + src[4 + i]));
            }
        }
    }

    @Test
    void siluMulMatchesDoubleOracle() {
        Random rnd = new Random(3);
        for (int n : SIZES) {
            float[] gate = TestTensors.gaussian(n, rnd);
            for (int i = 0; i < n; i++) {
                gate[i] *= 6;
            }
            float[] up = TestTensors.gaussian(n, rnd);
            float[] expected = new float[n];
            for (int i = 0; i < n; i++) {
                expected[i] = (float) (gate[i] / (1 + Math.exp(-(double) gate[i])) * up[i]);
            }
            CpuKernels.siluMul(gate, 0, up, 0, n);
            for (int i = 0; i < n; i++) {
                assertThat(gate[i]).isCloseTo(expected[i], within(4e-7f * Math.abs(expected[i]) + 1e-30f));
            }
        }
    }

    @Test
    void softmaxMatchesDoubleOracle() {
        Random rnd = new Random(4);
        for (int n : SIZES) {
            float[] x = offsetCopy(TestTensors.gaussian(n, rnd), 2);
            for (int i = 0; i < x.length; i++) {
                x[i] *= 10;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                max = Math.max(max, x[2 + i]);
            }
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += Math.exp(x[2 + i] - max);
            }
            double[] expected = new double[n];
            for (int i = 0; i < n; i++) {
                expected[i] = Math.exp(x[2 + i] - max) / sum;
            }
            float guard = x[1];
            float[] before = x.clone();
            CpuKernels.softmax(x, 2, n);
            assertThat(x[1]).isEqualTo(guard);
            for (int i = 0; i < n; i++) {
                // NOTE: x - max is rounded to float before exp, which scales its error by |x - max|.
                double tol = (n + 4 + Math.abs(before[2 + i] - max)) * 0x1p-24 * expected[i] + 1e-30;
                assertThat((double) x[2 + i]).as("n=%d i=%d", n, i).isCloseTo(expected[i], within(tol));
            }
        }
        float[] big = {1000f, 1000f, -1000f};
        CpuKernels.softmax(big, 0, 3);
        assertThat(big).containsExactly(0.5f, 0.5f, 0f);
        assertThatThrownBy(() -> CpuKernels.softmax(big, 0, 0)).hasMessageContaining("n >= 1");
    }

    @Test
    void dotMatchesDoubleOracle() {
        Random rnd = new Random(5);
        for (int n : SIZES) {
            float[] a = offsetCopy(TestTensors.gaussian(n, rnd), 3);
            float[] b = TestTensors.gaussian(n, rnd);
            double exact = 0;
            double magnitude = 0;
            for (int i = 0; i < n; i++) {
                exact += (double) a[3 + i] * b[i];
                magnitude += Math.abs((double) a[3 + i] * b[i]);
            }
            assertThat((double) CpuKernels.dot(a, 3, b, 0, n))
                    .isCloseTo(exact, within((n + 16) * 0x1p-24 * magnitude + 1e-30));
        }
    }

    @Test
    void ropeTableHoldsCosAndSinOfTheFloatAngle() {
        double[] invFreq = invFreq(64, 10000);
        RopeTable table = new RopeTable(invFreq, 50);
        assertThat(table.rotaryDim()).isEqualTo(64);
        assertThat(table.maxPositions()).isEqualTo(50);
        for (int pos : new int[] {0, 1, 17, 49}) {
            for (int i = 0; i < 32; i++) {
                float angle = (float) ((double) pos * (float) invFreq[i]);
                assertThat(table.cos(pos, i)).isEqualTo((float) Math.cos(angle));
                assertThat(table.sin(pos, i)).isEqualTo((float) Math.sin(angle));
            }
        }
        assertThatThrownBy(() -> table.cos(50, 0)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> new RopeTable(new double[0], 4)).hasMessageContaining("invFreq");
        assertThatThrownBy(() -> new RopeTable(invFreq, 0)).hasMessageContaining("maxPositions");
    }

    /** Both styles against a double oracle that rotates each pair by the table's angle. */
    @Test
    void ropeRotatesTheRightPairs() {
        Random rnd = new Random(6);
        int headDim = 16;
        int heads = 3;
        double[] invFreq = invFreq(headDim, 10000);
        RopeTable table = new RopeTable(invFreq, 40);
        for (RopeStyle style : RopeStyle.values()) {
            for (int pos : new int[] {0, 1, 7, 39}) {
                float[] v = offsetCopy(TestTensors.gaussian(heads * headDim, rnd), 5);
                float[] before = v.clone();
                CpuKernels.rope(v, 5, heads, headDim, pos, table, style);
                for (int h = 0; h < heads; h++) {
                    for (int i = 0; i < headDim / 2; i++) {
                        int a = 5 + h * headDim + (style == RopeStyle.NEOX ? i : 2 * i);
                        int b = style == RopeStyle.NEOX ? a + headDim / 2 : a + 1;
                        double angle = (float) ((double) pos * (float) invFreq[i]);
                        double c = Math.cos(angle);
                        double s = Math.sin(angle);
                        double ea = before[a] * c - before[b] * s;
                        double eb = before[b] * c + before[a] * s;
                        double tol = 4 * 0x1p-24 * (Math.abs(before[a]) + Math.abs(before[b]));
                        assertThat((double) v[a]).as("%s pos=%d h=%d i=%d", style, pos, h, i).isCloseTo(ea, within(tol));
                        assertThat((double) v[b]).as("%s pos=%d h=%d i=%d", style, pos, h, i).isCloseTo(eb, within(tol));
                    }
                }
                assertThat(v[4]).isEqualTo(before[4]);
            }
        }
    }

    /** INTERLEAVED on a head equals NEOX on the same head with its dimensions de-interleaved. */
    @Test
    void ropeStylesAgreeUpToThePairPermutation() {
        Random rnd = new Random(7);
        int headDim = 32;
        RopeTable table = new RopeTable(invFreq(headDim, 500000), 100);
        float[] interleaved = TestTensors.gaussian(headDim, rnd);
        float[] halves = new float[headDim];
        for (int i = 0; i < headDim / 2; i++) {
            halves[i] = interleaved[2 * i];
            halves[i + headDim / 2] = interleaved[2 * i + 1];
        }
        CpuKernels.rope(interleaved, 0, 1, headDim, 77, table, RopeStyle.INTERLEAVED);
        CpuKernels.rope(halves, 0, 1, headDim, 77, table, RopeStyle.NEOX);
        for (int i = 0; i < headDim / 2; i++) {
            assertThat(halves[i]).isEqualTo(interleaved[2 * i]);
            assertThat(halves[i + headDim / 2]).isEqualTo(interleaved[2 * i + 1]);
        }
    }

    @Test
    void partialRotaryLeavesTheRestAlone() {
        Random rnd = new Random(8);
        RopeTable table = new RopeTable(invFreq(8, 10000), 10);
        float[] v = TestTensors.gaussian(2 * 16, rnd);
        float[] before = v.clone();
        CpuKernels.rope(v, 0, 2, 16, 3, table, RopeStyle.NEOX);
        for (int h = 0; h < 2; h++) {
            assertThat(Arrays.copyOfRange(v, h * 16 + 8, h * 16 + 16))
                    .isEqualTo(Arrays.copyOfRange(before, h * 16 + 8, h * 16 + 16));
            assertThat(Arrays.copyOfRange(v, h * 16, h * 16 + 8))
                    .isNotEqualTo(Arrays.copyOfRange(before, h * 16, h * 16 + 8));
        }
        assertThatThrownBy(() -> CpuKernels.rope(v, 0, 1, 4, 0, table, RopeStyle.NEOX))
                .hasMessageContaining("headDim is 4");
        assertThatThrownBy(() -> CpuKernels.rope(v, 0, 1, 16, 10, table, RopeStyle.NEOX))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }

    static double[] invFreq(int rotaryDim, double theta) {
        double[] f = new double[rotaryDim / 2];
        for (int i = 0; i < f.length; i++) {
            f[i] = 1.0 / Math.pow(theta, 2.0 * i / rotaryDim);
        }
        return f;
    }

    /** {@code v} copied behind {@code pad} random leading floats. */
    private static float[] offsetCopy(float[] v, int pad) {
        float[] out = new float[v.length + pad];
        for (int i = 0; i < pad; i++) {
            out[i] = 1000 + i;
        }
        System.arraycopy(v, 0, out, pad, v.length);
        return out;
    }
}
