package dev.bulkhead.engine.internal.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Q8ActivationsTest {

    /** Blocks of every kind the kernels meet: Gaussian, one spike, tiny, all zero, huge, constant. */
    static float[] mixedBlocks(int tokens, int cols, Random rnd) {
        float[] x = new float[tokens * cols];
        for (int b = 0; b < x.length; b += 32) {
            int kind = rnd.nextInt(6);
            for (int j = b; j < b + 32; j++) {
                float g = (float) rnd.nextGaussian();
                x[j] = switch (kind) {
                    case 0 -> g;
                    case 1 -> j == b + 7 ? 1e6f : g;
                    case 2 -> g * 1e-30f;
                    case 3 -> 0f;
                    case 4 -> g * 1e20f;
                    default -> -2.5f;
                };
            }
        }
        return x;
    }

    @Test
    void everyValueIsWithinHalfAStepOfItsFloat() {
        Random rnd = new Random(3);
        int tokens = 5;
        int cols = 96;
        float[] x = mixedBlocks(tokens, cols, rnd);
        Q8Activations a = Q8Activations.quantize(x, tokens, cols);
        assertThat(a.blocksPerToken).isEqualTo(3);
        for (int b = 0; b < tokens * 3; b++) {
            float amax = 0;
            int sum = 0;
            for (int j = b * 32; j < b * 32 + 32; j++) {
                amax = Math.max(amax, Math.abs(x[j]));
                sum += a.q[j];
            }
            float d = a.scale[b];
            assertThat(d).as("block %d scale", b).isEqualTo(amax / 127f);
            assertThat(a.scaledSum[b]).as("block %d scaled sum", b).isEqualTo(d * sum);
            int largest = 0;
            for (int j = b * 32; j < b * 32 + 32; j++) {
                assertThat((int) a.q[j]).as("q[%d]", j).isBetween(-127, 127);
                largest = Math.max(largest, Math.abs(a.q[j]));
                // NOTE: half a step, plus the rounding of x / d (127 * 2^-24 of a step at most).
                double error = Math.abs((double) x[j] - (double) d * a.q[j]);
                assertThat(error).as("x[%d] = %s, d = %s, q = %d", j, x[j], d, a.q[j])
                        .isLessThanOrEqualTo(d * (0.5 + 1e-5));
            }
            if (amax > 0) {
                assertThat(largest).as("block %d: the largest value maps to 127", b).isEqualTo(127);
            }
        }
    }

    @Test
    void roundsHalfwayValuesToEven() {
        float[] x = new float[32];
        x[0] = 127f; // scale 1
        x[1] = 2.5f;
        x[2] = 3.5f;
        x[3] = -2.5f;
        x[4] = 0.49f;
        Q8Activations a = Q8Activations.quantize(x, 1, 32);
        assertThat(a.scale[0]).isEqualTo(1f);
        assertThat(Arrays.copyOf(a.q, 5)).containsExactly((short) 127, (short) 2, (short) 4, (short) -2, (short) 0);
    }

    @Test
    void zeroTinyAndNanBlocks() {
        float[] x = new float[96];
        Arrays.fill(x, 32, 64, 1e-37f); // below 127 * Float.MIN_NORMAL: flushed to zero
        x[64] = Float.NaN;
        x[65] = 1f;
        Q8Activations a = Q8Activations.quantize(x, 1, 96);
        assertThat(a.scale[0]).isZero();
        assertThat(a.scale[1]).isZero();
        for (int j = 0; j < 64; j++) {
            assertThat(a.q[j]).isZero();
        }
        assertThat(a.scale[2]).as("a NaN makes its block's scale NaN").isNaN();
    }

    @Test
    void tokensAreQuantizedAloneSerialOrParallel() {
        Random rnd = new Random(8);
        int tokens = 7;
        int cols = 64;
        float[] x = mixedBlocks(tokens, cols, rnd);
        Q8Activations serial = Q8Activations.quantize(x, tokens, cols);
        Q8Activations parallel;
        try (CpuThreadPool pool = new CpuThreadPool(3)) {
            parallel = Q8Activations.quantize(pool, x, tokens, cols);
        }
        assertThat(parallel.q).isEqualTo(serial.q);
        assertThat(parallel.scale).isEqualTo(serial.scale);
        assertThat(parallel.scaledSum).isEqualTo(serial.scaledSum);
        for (int t = 0; t < tokens; t++) {
            Q8Activations one = Q8Activations.quantize(Arrays.copyOfRange(x, t * cols, (t + 1) * cols), 1, cols);
            assertThat(one.q).isEqualTo(Arrays.copyOfRange(serial.q, t * cols, (t + 1) * cols));
            assertThat(one.scale).isEqualTo(Arrays.copyOfRange(serial.scale, 2 * t, 2 * t + 2));
        }
    }

    @Test
    void rejectsRaggedShapesAndShortInput() {
        assertThatThrownBy(() -> Q8Activations.quantize(new float[40], 1, 40))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiple of 32");
        assertThatThrownBy(() -> Q8Activations.quantize(new float[32], 2, 32))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }
}
