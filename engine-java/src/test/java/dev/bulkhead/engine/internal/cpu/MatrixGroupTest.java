package dev.bulkhead.engine.internal.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.model.tensor.DType;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MatrixGroupTest {

    @Test
    void groupedPassEqualsEachMatrixAloneBitForBit() {
        Random rnd = new Random(5);
        WeightMatrix a = WeightMatrices.of(TestTensors.random(DType.F32, 70, 64, rnd).tensor());
        WeightMatrix b = WeightMatrices.of(TestTensors.random(DType.BF16, 33, 64, rnd).tensor());
        WeightMatrix c = WeightMatrices.of(TestTensors.random(DType.Q8_0, 16, 64, rnd).tensor());
        for (int tokens : new int[] {1, 3, 9}) {
            float[] x = TestTensors.gaussian(tokens * 64, rnd);
            float[][] grouped = {new float[tokens * 70], new float[tokens * 33], new float[tokens * 16]};
            try (CpuThreadPool pool = new CpuThreadPool(2)) {
                new MatrixGroup(a, b, c).multiply(pool, x, tokens, grouped);
            }
            float[] ea = new float[tokens * 70];
            float[] eb = new float[tokens * 33];
            float[] ec = new float[tokens * 16];
            a.multiplyRows(x, tokens, ea, 0, 70);
            b.multiplyRows(x, tokens, eb, 0, 33);
            c.multiplyRows(x, tokens, ec, 0, 16);
            assertThat(grouped[0]).containsExactly(ea);
            assertThat(grouped[1]).containsExactly(eb);
            assertThat(grouped[2]).containsExactly(ec);
        }
    }

    /** K-quants and a float matrix in one group share one quantization of the input, bit for bit alone. */
    @Test
    void groupOfKQuantsEqualsEachMatrixAlone() {
        Random rnd = new Random(9);
        WeightMatrix[] ms = {
                WeightMatrices.of(TestTensors.random(DType.Q4_K, 37, 256, rnd).tensor()),
                WeightMatrices.of(TestTensors.random(DType.Q6_K, 21, 256, rnd).tensor()),
                WeightMatrices.of(TestTensors.random(DType.F32, 16, 256, rnd).tensor())};
        for (int tokens : new int[] {1, 6}) {
            float[] x = TestTensors.gaussian(tokens * 256, rnd);
            float[][] grouped = new float[ms.length][];
            for (int i = 0; i < ms.length; i++) {
                grouped[i] = new float[tokens * ms[i].rows()];
            }
            try (CpuThreadPool pool = new CpuThreadPool(2)) {
                new MatrixGroup(ms).multiply(pool, x, tokens, grouped);
            }
            for (int i = 0; i < ms.length; i++) {
                float[] alone = new float[tokens * ms[i].rows()];
                ms[i].multiplyRows(x, tokens, alone, 0, ms[i].rows());
                assertThat(grouped[i]).as("%s tokens=%d", ms[i].dtype(), tokens).containsExactly(alone);
            }
        }
    }

    @Test
    void matricesMustShareTheirInputWidth() {
        Random rnd = new Random(1);
        WeightMatrix a = WeightMatrices.of(TestTensors.random(DType.F32, 4, 8, rnd).tensor());
        WeightMatrix b = WeightMatrices.of(TestTensors.random(DType.F32, 4, 16, rnd).tensor());
        assertThatThrownBy(() -> new MatrixGroup(a, b)).hasMessageContaining("16 columns vs 8");
        assertThatThrownBy(MatrixGroup::new).hasMessageContaining("at least one");
    }
}
