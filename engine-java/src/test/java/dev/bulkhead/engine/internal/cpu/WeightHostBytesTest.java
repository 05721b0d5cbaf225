package dev.bulkhead.engine.internal.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.engine.internal.runner.ModelRunner;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.model.arch.ModelWeights;
import dev.bulkhead.model.tensor.DType;
import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What the CPU backend allocates beside the mapped weights, which the router's memory ledger and a worker's
 * direct memory limit reserve: the repacked copies of Q6_K (352 bytes per 256 values), Q4_K (192 bytes per 256:
 * the nibbles and two float factors per 32 values) and Q4_0 (20 bytes per 32), nothing for the types read in place.
 */
class WeightHostBytesTest {

    private static final int[][] SHAPES = {{1, 256}, {3, 768}, {17, 512}};

    /** Bytes of the copy per {@code per} values: Q4_0 20 per 32, Q4_K 192 per 256, Q6_K 352 per 256. */
    @ParameterizedTest
    @CsvSource({"Q4_0, 20, 32", "Q4_K, 192, 256", "Q6_K, 352, 256"})
    void aRepackedTypeCountsItsCopyAndAllocatesExactlyThat(DType type, long bytes, long per) {
        Random rnd = new Random(5 + type.ordinal());
        for (int[] shape : SHAPES) {
            TestTensors.Built b = TestTensors.random(type, shape[0], shape[1], rnd);
            long values = (long) shape[0] * shape[1];
            assertThat(WeightMatrices.hostBytes(b.tensor())).as("%s rows=%d cols=%d", type, shape[0], shape[1])
                    .isEqualTo(values / per * bytes);
            QuantizedMatrix m = (QuantizedMatrix) WeightMatrices.of(b.tensor());
            assertThat(m.hostBytes()).isEqualTo(WeightMatrices.hostBytes(b.tensor()));
        }
    }

    @Test
    void typesReadInPlaceCountNothing() {
        Random rnd = new Random(7);
        for (DType type : new DType[] {DType.F32, DType.BF16, DType.F16, DType.Q8_0}) {
            assertThat(WeightMatrices.hostBytes(TestTensors.random(type, 3, 256, rnd).tensor())).as("%s", type)
                    .isZero();
        }
    }

    /** The runner closes its arena with itself; a matrix whose copies were elsewhere would go on working. */
    @Test
    void theCopiesLiveInTheArenaTheyWereMadeIn() {
        Random rnd = new Random(8);
        float[] x = new float[256];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        for (DType type : new DType[] {DType.Q4_0, DType.Q4_K, DType.Q6_K}) {
            Arena arena = Arena.ofShared();
            WeightMatrix m = WeightMatrices.of(TestTensors.random(type, 3, 256, rnd).tensor(), arena);
            float[] out = new float[3];
            m.multiplyRows(x, 1, out, 0, 3);
            assertThat(out).as("%s", type).doesNotContain(Float.NaN);
            arena.close();
            assertThatThrownBy(() -> m.multiplyRows(x, 1, out, 0, 3)).as("%s after its arena closed", type)
                    .isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void aDecoratedFactoryReportsItsBasesHostBytes() {
        ModelRunnerFactory base = new ModelRunnerFactory() {
            @Override
            public ModelRunner create(ModelWeights weights, dev.bulkhead.engine.internal.runner.CpuRunnerOptions o) {
                throw new UnsupportedOperationException();
            }

            @Override
            public long hostWeightBytes(ModelWeights weights) {
                return 12345;
            }
        };
        assertThat(ModelRunnerFactory.decorating(base, (r, o) -> r).hostWeightBytes(null)).isEqualTo(12345);
    }
}
