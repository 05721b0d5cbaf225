package dev.bulkhead.engine.internal.cpu;

import dev.bulkhead.engine.EngineOptions;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bulkhead.model.tensor.DType;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * OpenBLAS products against the Java kernels. Needs OpenBLAS on this machine: without it every test is
 * reported as skipped (an assumption), never as passed.
 *
 * <p>Tolerance: any order of summing n products in float, with or without FMA, is within
 * {@code gamma_n * sum |terms|} of the exact sum ({@code gamma_n = n u / (1 - n u)}, {@code u = 2^-24}). BLAS
 * multiplies the float activations, not the 8-bit ones of the Java quantized kernels, so every type is checked
 * against the exact product in double of its weights' values and the activations.
 */
class OpenBlasGemmWhenInstalledTest {

    private static String missing;

    @BeforeAll
    static void probe() {
        try {
            OpenBlas.locate("");
        } catch (CpuGemmUnavailableException e) {
            missing = e.getMessage();
        }
    }

    @ParameterizedTest(name = "{0} {1}x{2}, {3} tokens, heap access {4}")
    @CsvSource({
        "F32, 70, 67, 16, true", "F32, 70, 67, 16, false", "F32, 256, 768, 33, true",
        "BF16, 70, 67, 32, true", "BF16, 70, 67, 33, false",
        "BF16, 300, 8192, 32, true", "BF16, 300, 8192, 40, false",
        // 12000 columns: 10 rows per 512 KiB slice, so a 16-row share of the rows is a slice and a partial one;
        // 140000 columns: one row is wider than a slice
        "BF16, 100, 12000, 32, false", "F16, 3, 140000, 32, true",
        "F16, 70, 67, 32, true", "F16, 70, 67, 35, false",
        "Q8_0, 70, 96, 16, true", "Q8_0, 33, 160, 19, false", "Q4_0, 70, 160, 33, false", "Q4_0, 300, 8192, 16, true",
        "Q4_K, 40, 512, 16, true", "Q4_K, 130, 768, 20, false", "Q6_K, 300, 8192, 17, false", "Q6_K, 9, 256, 16, true"})
    void productIsTheExactProductWithinTheSummationBound(DType type, int rows, int cols, int tokens,
                                                         boolean heapAccess) {
        assumeTrue(missing == null, () -> "OpenBLAS is not installed, skipped: " + missing);
        Random rnd = new Random(rows * 31L + cols + tokens);
        Weights b = weights(type, rows, cols, rnd);
        WeightMatrix w = WeightMatrices.of(b.tensor());
        float[] x = activations(tokens * cols + 5, rnd);
        float[] actual = new float[tokens * rows + 3];
        try (CpuThreadPool pool = new CpuThreadPool(2);
             BlasGemm blas = BlasGemm.create(new CpuGemmSettings(EngineOptions.CpuGemm.OPENBLAS, "", 16, heapAccess))) {
            assertThat(blas.handles(w, 16)).isTrue();
            assertThat(blas.handles(w, 15)).isFalse();
            blas.multiply(pool, w, x, tokens, actual);
        }
        assertWithinBound(type.name(), b, x, tokens, actual);
        assertThat(actual[tokens * rows]).as("nothing written past the product").isZero();
    }

    @ParameterizedTest(name = "group of F32, BF16, Q8_0 and Q4_K, heap access {0}")
    @CsvSource({"true", "false"})
    void aGroupOfMixedTypesGoesThroughBlasFromTheThresholdOnly(boolean heapAccess) {
        assumeTrue(missing == null, () -> "OpenBLAS is not installed, skipped: " + missing);
        Random rnd = new Random(7);
        int cols = 256;
        Weights[] built = {weights(DType.F32, 48, cols, rnd), weights(DType.BF16, 32, cols, rnd),
            weights(DType.Q8_0, 16, cols, rnd), weights(DType.Q4_K, 24, cols, rnd)};
        WeightMatrix[] ms = java.util.Arrays.stream(built).map(b -> WeightMatrices.of(b.tensor()))
                .toArray(WeightMatrix[]::new);
        try (CpuThreadPool pool = new CpuThreadPool(2);
             BlasGemm blas = BlasGemm.create(new CpuGemmSettings(EngineOptions.CpuGemm.OPENBLAS, "", 16, heapAccess))) {
            int tokens = 40;
            float[] x = activations(tokens * cols, rnd);
            float[][] viaBlas = outputs(ms, tokens);
            new MatrixGroup(ms).multiply(pool, blas, x, tokens, viaBlas);
            for (int m = 0; m < ms.length; m++) {
                assertWithinBound("group member " + m, built[m], x, tokens, viaBlas[m]);
            }
            // NOTE: below the threshold the whole group stays on the Java kernels, bit for bit.
            int few = 15;
            float[] y = activations(few * cols, rnd);
            float[][] below = outputs(ms, few);
            float[][] java = outputs(ms, few);
            new MatrixGroup(ms).multiply(pool, blas, y, few, below);
            new MatrixGroup(ms).multiply(pool, y, few, java);
            assertThat(below).isDeepEqualTo(java);
        }
    }

    /** A tensor, the value of each weight, and a bound on the parts a quantized value is rounded from. */
    private record Weights(dev.bulkhead.model.tensor.WeightTensor tensor, float[] values, double[] minBound) {
    }

    private static Weights weights(DType type, int rows, int cols, Random rnd) {
        if (type.blockSize() > 1) {
            QuantizedMatrixTest.Built b = QuantizedMatrixTest.extremeTensor(type, rows, cols, rnd);
            return new Weights(b.tensor(), b.weights(), b.minBound());
        }
        TestTensors.Built b = TestTensors.random(type, rows, cols, rnd);
        return new Weights(b.tensor(), b.weights(), new double[rows * cols]);
    }

    private static float[] activations(int n, Random rnd) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    private static float[][] outputs(WeightMatrix[] ms, int tokens) {
        return java.util.Arrays.stream(ms).map(m -> new float[tokens * m.rows()]).toArray(float[][]::new);
    }

    /**
     * Each result against the exact product in double: the summation bound, plus, for a widened quantized
     * weight, up to four roundings of its magnitude and its minimum's ({@code QuantizedMatrixTest}'s bound).
     */
    private static void assertWithinBound(String what, Weights b, float[] x, int tokens, float[] actual) {
        int rows = b.tensor().rows();
        int cols = b.tensor().cols();
        double u = Math.scalb(1.0, -24);
        double gamma = cols * u / (1 - cols * u);
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                double exact = 0;
                double absSum = 0;
                double widening = 0;
                for (int c = 0; c < cols; c++) {
                    double wv = b.values()[r * cols + c];
                    double xv = x[t * cols + c];
                    exact += wv * xv;
                    absSum += Math.abs(wv * xv);
                    widening += 4 * u * (Math.abs(wv) + b.minBound()[r * cols + c]) * Math.abs(xv);
                }
                double tol = gamma * (absSum + widening) + widening + 1e-30;
                assertThat((double) actual[t * rows + r]).as("%s token %d row %d", what, t, r)
                        .isCloseTo(exact, org.assertj.core.data.Offset.offset(tol));
            }
        }
    }
}
