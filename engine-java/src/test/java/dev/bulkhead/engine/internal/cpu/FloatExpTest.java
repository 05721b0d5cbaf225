package dev.bulkhead.engine.internal.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class FloatExpTest {

    /** Inputs over the whole range, the ends and the points where 2^n changes included. */
    private static float[] inputs() {
        Random rnd = new Random(3);
        float[] x = new float[200_000];
        int i = 0;
        for (float special : new float[] {0f, -0f, 1f, -1f, FloatExp.MIN_X, Math.nextDown(FloatExp.MIN_X),
                Math.nextUp(FloatExp.MIN_X), FloatExp.MAX_X, 100f, -100f, -1e-30f, 1e-30f,
                Float.NEGATIVE_INFINITY, (float) Math.log(2) * 0.5f, -(float) Math.log(2) * 0.5f}) {
            x[i++] = special;
        }
        for (int n = -126; n <= 126; n++) {
            float at = (float) (n * Math.log(2));
            x[i++] = at;
            x[i++] = Math.nextUp(at);
            x[i++] = Math.nextDown(at);
            x[i++] = at + 0.3465f;
        }
        while (i < x.length) {
            x[i++] = i % 2 == 0 ? -rnd.nextFloat() * 90f : (rnd.nextFloat() - 0.5f) * 176f;
        }
        return x;
    }

    @Test
    void isWithinTwoUlpOfMathExpOverTheSoftmaxRange() {
        int worst = 0;
        for (float x : inputs()) {
            if (x < FloatExp.MIN_X || x > FloatExp.MAX_X) {
                continue;
            }
            float expected = (float) Math.exp(x);
            float got = FloatExp.exp(x);
            int ulps = Math.abs(Float.floatToRawIntBits(got) - Float.floatToRawIntBits(expected));
            assertThat(ulps).as("exp(%s) = %s, Math.exp %s", x, got, expected).isLessThanOrEqualTo(2);
            worst = Math.max(worst, ulps);
        }
        assertThat(worst).as("some inputs must take a rounding step").isPositive();
    }

    @Test
    void isZeroBelowTheNormalRangeAndBoundedAbove() {
        assertThat(FloatExp.exp(Float.NEGATIVE_INFINITY)).isZero();
        assertThat(FloatExp.exp(-100f)).isZero();
        assertThat(FloatExp.exp(FloatExp.MIN_X)).isPositive();
        assertThat(FloatExp.exp(1000f)).isEqualTo(FloatExp.exp(FloatExp.MAX_X)).isFinite();
    }

    /** The vector gives the scalar twin's bits lane for lane, whatever the lane. */
    @Test
    void vectorAndScalarGiveTheSameBits() {
        float[] x = inputs();
        float[] out = new float[x.length];
        int upper = Vectors.FLOAT.loopBound(x.length);
        for (int rotation = 0; rotation < 3; rotation++) {
            for (int i = 0; i < upper; i += Vectors.LANES) {
                FloatExp.exp(FloatVector.fromArray(Vectors.FLOAT, x, i)).intoArray(out, i);
            }
            for (int i = 0; i < upper; i++) {
                assertThat(Float.floatToRawIntBits(out[i])).as("x = %s", x[i])
                        .isEqualTo(Float.floatToRawIntBits(FloatExp.exp(x[i])));
            }
            System.arraycopy(x, 1, x, 0, x.length - 1); // every input through another lane
        }
    }
}
