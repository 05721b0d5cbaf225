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
 * {@code gamma_n * sum |terms|} of the exact sum ({@code gamma_n = n u / (1 - n u)}, {@code u = 2^-24}); two
 * such sums are within twice that of each other.
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
        "BF16, 70, 67, 16, true", "BF16, 70, 67, 17, false",
        // 8192 columns: 128 rows per 4 MiB tile, so 300 rows are three tiles, the last one partial
        "BF16, 300, 8192, 16, true", "BF16, 300, 8192, 20, false"})
    void productMatchesTheJavaKernelWithinTheSummationBound(DType type, int rows, int cols, int tokens,
                                                             boolean heapAccess) {
        assumeTrue(missing == null, () -> "OpenBLAS is not installed, skipped: " + missing);
        Random rnd = new Random(rows * 31L + cols + tokens);
        TestTensors.Built b = TestTensors.random(type, rows, cols, rnd);
        WeightMatrix w = WeightMatrices.of(b.tensor());
        float[] x = new float[tokens * cols + 5];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        float[] expected = new float[tokens * rows];
        float[] actual = new float[tokens * rows + 3];
        try (CpuThreadPool pool = new CpuThreadPool(2);
             BlasGemm blas = BlasGemm.create(new CpuGemmSettings(EngineOptions.CpuGemm.OPENBLAS, "", 16, heapAccess), 2)) {
            assertThat(blas.handles(w, tokens)).isTrue();
            assertThat(blas.handles(w, 15)).isFalse();
            WeightMatrices.parallelMultiply(pool, w, x, tokens, expected);
            blas.multiply(pool, w, x, tokens, actual);
        }
        double u = Math.scalb(1.0, -24);
        double gamma = cols * u / (1 - cols * u);
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                double absSum = 0;
                for (int c = 0; c < cols; c++) {
                    absSum += Math.abs((double) b.weights()[r * cols + c] * x[t * cols + c]);
                }
                int i = t * rows + r;
                assertThat((double) Math.abs(actual[i] - expected[i]))
                        .as("token %d row %d: blas %s, java %s", t, r, actual[i], expected[i])
                        .isLessThanOrEqualTo(2 * gamma * absSum);
            }
        }
        assertThat(actual[tokens * rows]).as("nothing written past the product").isZero();
    }

    @ParameterizedTest(name = "group of F32 and BF16, heap access {0}")
    @CsvSource({"true", "false"})
    void aGroupGoesThroughBlasOnlyWhenEveryMatrixIsFloat(boolean heapAccess) {
        assumeTrue(missing == null, () -> "OpenBLAS is not installed, skipped: " + missing);
        Random rnd = new Random(7);
        WeightMatrix f32 = WeightMatrices.of(TestTensors.random(DType.F32, 48, 64, rnd).tensor());
        WeightMatrix bf16 = WeightMatrices.of(TestTensors.random(DType.BF16, 32, 64, rnd).tensor());
        WeightMatrix q8 = WeightMatrices.of(TestTensors.random(DType.Q8_0, 16, 64, rnd).tensor());
        int tokens = 20;
        float[] x = new float[tokens * 64];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        try (CpuThreadPool pool = new CpuThreadPool(2);
             BlasGemm blas = BlasGemm.create(new CpuGemmSettings(EngineOptions.CpuGemm.OPENBLAS, "", 16, heapAccess), 2)) {
            float[][] viaBlas = {new float[tokens * 48], new float[tokens * 32]};
            float[][] java = {new float[tokens * 48], new float[tokens * 32]};
            new MatrixGroup(f32, bf16).multiply(pool, blas, x, tokens, viaBlas);
            new MatrixGroup(f32, bf16).multiply(pool, x, tokens, java);
            for (int m = 0; m < 2; m++) {
                for (int i = 0; i < java[m].length; i++) {
                    assertThat(viaBlas[m][i]).isCloseTo(java[m][i], org.assertj.core.data.Offset.offset(1e-3f));
                }
            }
            // NOTE: a quantized member keeps the whole group on the Java kernels, bit for bit.
            float[][] mixed = {new float[tokens * 48], new float[tokens * 16]};
            float[][] mixedJava = {new float[tokens * 48], new float[tokens * 16]};
            new MatrixGroup(f32, q8).multiply(pool, blas, x, tokens, mixed);
            new MatrixGroup(f32, q8).multiply(pool, x, tokens, mixedJava);
            assertThat(mixed).isDeepEqualTo(mixedJava);
        }
    }
}
