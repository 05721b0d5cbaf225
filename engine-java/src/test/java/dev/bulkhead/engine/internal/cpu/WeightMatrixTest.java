package dev.bulkhead.engine.internal.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.WeightTensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class WeightMatrixTest {

    private static final double FLOAT_EPS = 0x1p-24;

    /** Column counts per type: odd ones (not a multiple of any vector length) where the type allows. */
    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of(DType.F32, new int[] {1, 7, 16, 33, 100, 257}),
                Arguments.of(DType.BF16, new int[] {1, 9, 16, 47, 130}),
                Arguments.of(DType.F16, new int[] {3, 16, 31, 64, 129}),
                Arguments.of(DType.Q8_0, new int[] {32, 96, 160}),
                Arguments.of(DType.Q4_0, new int[] {32, 64, 224}),
                Arguments.of(DType.Q4_K, new int[] {256, 512}),
                Arguments.of(DType.Q6_K, new int[] {256, 512}));
    }

    /**
     * Against a double-precision oracle on the weights' defined values. Tolerance for float types: the classic
     * bound for a float sum of n products, (n + 16) * 2^-24 * sum |w x| (16 covers the lane tree). Quantized
     * types multiply by activations rounded to 8 bits per block of 32 (as llama.cpp does), so they add the
     * rounding bound {@link #activationRoundingBound}: with Gaussian activations that is about 1% of
     * sum |w x|, still far below the error of any wrong nibble, scale or block.
     */
    @ParameterizedTest
    @MethodSource("shapes")
    void multiplyMatchesDoubleOracle(DType type, int[] colChoices) {
        Random rnd = new Random(42 + type.ordinal());
        for (int cols : colChoices) {
            for (int rows : new int[] {1, 5, 13}) {
                TestTensors.Built b = TestTensors.random(type, rows, cols, rnd);
                WeightMatrix m = WeightMatrices.of(b.tensor());
                assertThat(m.dtype()).isEqualTo(type);
                assertThat(m.rows()).isEqualTo(rows);
                assertThat(m.cols()).isEqualTo(cols);
                for (int tokens : new int[] {1, 3, 4, 9}) {
                    float[] x = TestTensors.gaussian(tokens * cols, rnd);
                    float[] out = new float[tokens * rows];
                    m.multiplyRows(x, tokens, out, 0, rows);
                    for (int t = 0; t < tokens; t++) {
                        for (int r = 0; r < rows; r++) {
                            double exact = 0;
                            double magnitude = 0;
                            for (int c = 0; c < cols; c++) {
                                double p = (double) b.weights()[r * cols + c] * x[t * cols + c];
                                exact += p;
                                magnitude += Math.abs(p);
                            }
                            double tol = (cols + 16) * FLOAT_EPS * magnitude + 1e-30;
                            if (type.isQuantized()) {
                                tol += activationRoundingBound(b.weights(), r * cols, x, t * cols, cols);
                            }
                            assertThat((double) out[t * rows + r])
                                    .as("%s rows=%d cols=%d tokens=%d t=%d r=%d", type, rows, cols, tokens, t, r)
                                    .isCloseTo(exact, within(tol));
                        }
                    }
                }
            }
        }
    }

    /**
     * How far {@code sum w x} can move when each activation is rounded to the nearest multiple of its
     * block's scale {@code max|x| / 127}: half a step per value, {@code sum_blocks (max|x| / 254) sum |w|}
     * (times 1.001 for the float rounding of the scale itself).
     */
    static double activationRoundingBound(float[] w, int wOff, float[] x, int xOff, int n) {
        double bound = 0;
        for (int b = 0; b < n; b += 32) {
            double amax = 0;
            double wsum = 0;
            for (int j = b; j < b + 32; j++) {
                amax = Math.max(amax, Math.abs(x[xOff + j]));
                wsum += Math.abs(w[wOff + j]);
            }
            bound += amax / 254 * 1.001 * wsum;
        }
        return bound;
    }

    /**
     * Batch invariance: a row's result for a token is bit-identical whether the token comes alone or in a
     * batch, and whatever row range the call covers. Rows outside the range are left untouched.
     */
    @ParameterizedTest
    @MethodSource("shapes")
    void resultsAreBitIdenticalAcrossBatchesAndRowRanges(DType type, int[] colChoices) {
        Random rnd = new Random(7 + type.ordinal());
        int cols = colChoices[colChoices.length - 1];
        int rows = 23;
        TestTensors.Built b = TestTensors.random(type, rows, cols, rnd);
        WeightMatrix m = WeightMatrices.of(b.tensor());
        int tokens = 11;
        float[] x = TestTensors.gaussian(tokens * cols, rnd);
        float[] batched = new float[tokens * rows];
        m.multiplyRows(x, tokens, batched, 0, rows);
        for (int t = 0; t < tokens; t++) {
            float[] single = new float[rows];
            m.multiplyRows(Arrays.copyOfRange(x, t * cols, (t + 1) * cols), 1, single, 0, rows);
            assertThat(single).as("token %d alone vs in a batch of %d", t, tokens)
                    .isEqualTo(Arrays.copyOfRange(batched, t * rows, (t + 1) * rows));
        }
        for (int trial = 0; trial < 20; trial++) {
            int start = rnd.nextInt(rows);
            int end = start + 1 + rnd.nextInt(rows - start);
            int n = 1 + rnd.nextInt(tokens);
            float[] part = new float[n * rows];
            Arrays.fill(part, Float.NaN);
            m.multiplyRows(x, n, part, start, end);
            for (int t = 0; t < n; t++) {
                for (int r = 0; r < rows; r++) {
                    float expected = r >= start && r < end ? batched[t * rows + r] : Float.NaN;
                    assertThat(Float.floatToRawIntBits(part[t * rows + r]))
                            .as("rows [%d,%d) tokens %d t=%d r=%d", start, end, n, t, r)
                            .isEqualTo(Float.floatToRawIntBits(expected));
                }
            }
        }
    }

    /**
     * The first (interpreted) result equals the result after the kernels are JIT-compiled: the lane
     * reduction has a fixed order, so warming up never changes a logit.
     */
    @Test
    void resultsDoNotChangeOnceCompiled() {
        Random rnd = new Random(13);
        for (DType type : new DType[] {DType.F32, DType.F16, DType.Q4_0, DType.Q8_0, DType.Q4_K, DType.Q6_K}) {
            int cols = type.blockSize() == 256 ? 256 : 96;
            TestTensors.Built b = TestTensors.random(type, 8, cols, rnd);
            WeightMatrix m = WeightMatrices.of(b.tensor());
            float[] x = TestTensors.gaussian(5 * cols, rnd);
            float[] cold = new float[5 * 8];
            m.multiplyRows(x, 5, cold, 0, 8);
            float[] warm = new float[5 * 8];
            for (int i = 0; i < 20_000; i++) {
                m.multiplyRows(x, 5, warm, 0, 8);
                m.multiplyRows(x, 1, warm, 0, 8);
            }
            m.multiplyRows(x, 5, warm, 0, 8);
            assertThat(warm).as("%s", type).isEqualTo(cold);
        }
        float[] a = TestTensors.gaussian(100, rnd);
        float cold = CpuKernels.dot(a, 0, a, 0, 100);
        float warm = 0;
        for (int i = 0; i < 200_000; i++) {
            warm = CpuKernels.dot(a, 0, a, 0, 100);
        }
        assertThat(warm).isEqualTo(cold);
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void dequantizeRowGivesTheStoredValues(DType type, int[] colChoices) {
        Random rnd = new Random(99 + type.ordinal());
        int cols = colChoices[colChoices.length - 1];
        TestTensors.Built b = TestTensors.random(type, 4, cols, rnd);
        WeightMatrix m = WeightMatrices.of(b.tensor());
        for (int r = 0; r < 4; r++) {
            float[] dst = new float[cols + 5];
            m.dequantizeRow(r, dst, 5);
            assertThat(Arrays.copyOfRange(dst, 5, cols + 5))
                    .isEqualTo(Arrays.copyOfRange(b.weights(), r * cols, (r + 1) * cols));
        }
        assertThatThrownBy(() -> m.dequantizeRow(4, new float[cols], 0)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    /**
     * Every one of the 65536 half and bfloat16 bit patterns converts exactly as the JDK / definition does (a
     * half NaN only has to stay a NaN: whether its payload is quieted is the CPU's conversion instruction's
     * business).
     */
    @Test
    void halfConversionsAreExactForEveryBitPattern() {
        MemorySegment seg = Arena.ofAuto().allocate(2 * 65536, 2);
        for (int i = 0; i < 65536; i++) {
            seg.set(TestTensors.SHORT_LE, 2L * i, (short) i);
        }
        float[] f16 = new float[65536];
        float[] bf16 = new float[65536];
        WeightMatrices.of(new WeightTensor("f16", DType.F16, new long[] {1, 65536}, seg)).dequantizeRow(0, f16, 0);
        WeightMatrices.of(new WeightTensor("bf16", DType.BF16, new long[] {1, 65536}, seg)).dequantizeRow(0, bf16, 0);
        for (int i = 0; i < 65536; i++) {
            float expectedHalf = Float.float16ToFloat((short) i);
            float expectedBf = Float.intBitsToFloat(i << 16);
            if (Float.isNaN(expectedHalf)) {
                assertThat(f16[i]).as("f16 bits 0x%04x", i).isNaN();
            } else {
                assertThat(Float.floatToRawIntBits(f16[i])).as("f16 bits 0x%04x", i)
                        .isEqualTo(Float.floatToRawIntBits(expectedHalf));
            }
            assertThat(Float.floatToRawIntBits(bf16[i])).as("bf16 bits 0x%04x", i)
                    .isEqualTo(Float.floatToRawIntBits(expectedBf));
        }
    }

    @Test
    void rejectsTensorsThatAreNotMatrices() {
        MemorySegment seg = Arena.ofAuto().allocate(4 * 24);
        WeightTensor vector = new WeightTensor("model.norm.weight", DType.F32, new long[] {24}, seg);
        WeightTensor cube = new WeightTensor("blk.0.cube", DType.F32, new long[] {2, 3, 4}, seg);
        assertThatThrownBy(() -> WeightMatrices.of(vector)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("model.norm.weight").hasMessageContaining("rank 1");
        assertThatThrownBy(() -> WeightMatrices.of(cube)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("blk.0.cube").hasMessageContaining("rank 3");
        MemorySegment q = Arena.ofAuto().allocate(DType.Q8_0.byteSize(64));
        WeightTensor ragged = new WeightTensor("ragged", DType.Q8_0, new long[] {4, 16}, q);
        assertThatThrownBy(() -> WeightMatrices.of(ragged)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ragged").hasMessageContaining("block size 32");
    }

    @Test
    void rejectsShortBuffers() {
        WeightMatrix m = WeightMatrices.of(TestTensors.random(DType.F32, 4, 8, new Random(1)).tensor());
        assertThatThrownBy(() -> m.multiplyRows(new float[15], 2, new float[8], 0, 4))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> m.multiplyRows(new float[16], 2, new float[7], 0, 4))
                .isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> m.multiplyRows(new float[8], 1, new float[4], 2, 5))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void parallelMultiplyEqualsSerialBitForBit() {
        Random rnd = new Random(5);
        try (CpuThreadPool pool = new CpuThreadPool(3)) {
            for (DType type : new DType[] {DType.F32, DType.BF16, DType.F16, DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K}) {
                int cols = type.blockSize() == 256 ? 256 : 96;
                TestTensors.Built b = TestTensors.random(type, 203, cols, rnd);
                WeightMatrix m = WeightMatrices.of(b.tensor());
                for (int tokens : new int[] {1, 6}) {
                    float[] x = TestTensors.gaussian(tokens * cols, rnd);
                    float[] serial = new float[tokens * 203];
                    float[] parallel = new float[tokens * 203];
                    m.multiplyRows(x, tokens, serial, 0, 203);
                    WeightMatrices.parallelMultiply(pool, m, x, tokens, parallel);
                    assertThat(parallel).as("%s tokens=%d", type, tokens).isEqualTo(serial);
                }
            }
        }
    }
}
