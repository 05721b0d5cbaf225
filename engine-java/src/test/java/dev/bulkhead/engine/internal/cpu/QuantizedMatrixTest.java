package dev.bulkhead.engine.internal.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.Dequantizer;
import dev.bulkhead.model.tensor.WeightTensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The integer-dot kernels of the quantized matrices against the scalar oracle: weights from
 * {@link Dequantizer}, activations as {@link Q8Activations} rounded them ({@code scale * q}), the exact dot
 * product in double. With the rounded activations as input, only float rounding separates kernel and oracle:
 * exact integer sums per block, one rounding for the scale product, one per block's FMA and three for the
 * lane tree, so (blocks + 16) * 2^-24 * sum |terms| bounds it. A wrong nibble, bit pair, scale, minimum or
 * block is off by a sizeable fraction of sum |terms|.
 */
class QuantizedMatrixTest {

    private static final double FLOAT_EPS = 0x1p-24;
    private static final ValueLayout.OfShort SHORT_LE = TestTensors.SHORT_LE;
    /** f16 scales from the largest finite half to the smallest subnormal, both signs, and zero. */
    private static final float[] EXTREME_SCALES = {65504f, -65504f, 0x1p-24f, -0x1p-24f, 0f, 1f, -0.37f, 3e-5f};

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    void kernelsMatchTheScalarOracleOnExtremeBlocks(DType type) {
        Random rnd = new Random(11 + type.ordinal());
        int[] colChoices = type.blockSize() == 256 ? new int[] {256, 768} : new int[] {32, 160, 800};
        for (int cols : colChoices) {
            for (int rows : new int[] {1, 3, 17}) {
                Built b = extremeTensor(type, rows, cols, rnd);
                WeightMatrix m = WeightMatrices.of(b.tensor());
                for (int tokens : new int[] {1, 2, 4, 5, 9}) {
                    float[] x = Q8ActivationsTest.mixedBlocks(tokens, cols, rnd);
                    Q8Activations a = Q8Activations.quantize(x, tokens, cols);
                    float[] out = new float[tokens * rows];
                    m.multiplyRows(x, tokens, out, 0, rows);
                    for (int t = 0; t < tokens; t++) {
                        for (int r = 0; r < rows; r++) {
                            double exact = 0;
                            double magnitude = 0;
                            for (int c = 0; c < cols; c++) {
                                double xq = (double) a.scale[(t * cols + c) / 32] * a.q[t * cols + c];
                                double w = b.weights()[r * cols + c];
                                exact += w * xq;
                                magnitude += (Math.abs(w) + b.minBound()[r * cols + c]) * Math.abs(xq);
                            }
                            double tol = (cols / 32 + 16) * FLOAT_EPS * magnitude + 1e-35;
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
     * Below the tiles' threshold, pairs of tokens run through {@code dot2Tokens} and an odd one through {@code dot}:
     * each token's result must be the one-token kernel's bits for that token alone.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    void twoTokenKernelsGiveEachTokenItsBitsAlone(DType type) {
        Random rnd = new Random(31 + type.ordinal());
        int cols = type.blockSize() == 256 ? 512 : 160;
        for (int rows : new int[] {1, 2, 7}) {
            QuantizedMatrix m = (QuantizedMatrix) WeightMatrices.of(extremeTensor(type, rows, cols, rnd).tensor());
            for (int tokens = 2; tokens < m.tileMinTokens(); tokens++) {
                float[] x = Q8ActivationsTest.mixedBlocks(tokens, cols, rnd);
                float[] out = new float[tokens * rows];
                m.multiplyRows(x, tokens, out, 0, rows);
                assertEveryTokenHasItsBitsAlone(m, x, out, tokens);
            }
        }
    }

    /**
     * From {@link QuantizedMatrix#TILE_MIN_TOKENS} tokens the product runs as float tiles; each token's
     * result must be the integer kernel's bits for that token alone (a batch never changes a token's
     * logits). Odd row and token counts cover the tiles' one-row and one-token edges.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    void floatTilesGiveTheIntegerKernelsBitsForEveryToken(DType type) {
        Random rnd = new Random(23 + type.ordinal());
        int cols = type.blockSize() == 256 ? 512 : 160;
        for (int rows : new int[] {1, 2, 7}) {
            QuantizedMatrix m = (QuantizedMatrix) WeightMatrices.of(extremeTensor(type, rows, cols, rnd).tensor());
            for (int tokens : new int[] {m.tileMinTokens(), 9, 13, 19}) {
                float[] x = Q8ActivationsTest.mixedBlocks(tokens, cols, rnd);
                Q8Activations batch = Q8Activations.quantize(x, tokens, cols);
                assertThat(batch.laneOrdered).as("lane-ordered copy for the tiles").isNotNull();
                float[] out = new float[tokens * rows];
                m.multiplyQuantized(batch, out, 0, rows);
                assertEveryTokenHasItsBitsAlone(m, x, out, tokens);
            }
        }
    }

    /**
     * {@code out} of a {@code tokens}-token product of {@code x} holds, per token, that token's product alone, bit
     * for bit.
     */
    private static void assertEveryTokenHasItsBitsAlone(QuantizedMatrix m, float[] x, float[] out, int tokens) {
        int rows = m.rows();
        int cols = m.cols();
        for (int t = 0; t < tokens; t++) {
            float[] alone = new float[rows];
            m.multiplyRows(java.util.Arrays.copyOfRange(x, t * cols, (t + 1) * cols), 1, alone, 0, rows);
            for (int r = 0; r < rows; r++) {
                assertThat(Float.floatToIntBits(out[t * rows + r]))
                        .as("%s rows=%d tokens=%d t=%d r=%d: %s vs %s", m.dtype(), rows, tokens, t, r,
                                out[t * rows + r], alone[r])
                        .isEqualTo(Float.floatToIntBits(alone[r]));
            }
        }
    }

    /**
     * The float tiles {@link BlasGemm} hands to BLAS: each widened value is the oracle's weight (in
     * {@link IntDot#laneOrder}), up to the rounding of one product and one difference, for a row range that
     * starts mid-matrix and is written at an offset into the destination.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    void widenedRowsAreTheOraclesWeightsInLaneOrder(DType type) {
        Random rnd = new Random(31 + type.ordinal());
        int cols = type.blockSize() == 256 ? 512 : 160;
        int rows = 9;
        Built b = extremeTensor(type, rows, cols, rnd);
        QuantizedMatrix m = (QuantizedMatrix) WeightMatrices.of(b.tensor());
        int r0 = 2;
        int r1 = 7;
        long offset = 4L * 3 * cols;
        MemorySegment dst = Arena.ofAuto().allocate(offset + 4L * (r1 - r0) * cols + 4);
        m.widenRowsLaneOrdered(r0, r1, dst, offset);
        float[] expected = new float[cols];
        for (int r = r0; r < r1; r++) {
            IntDot.laneOrder(b.weights(), r * cols, expected, 0, cols);
            float[] bound = new float[cols];
            float[] minBound = new float[cols];
            for (int c = 0; c < cols; c++) {
                minBound[c] = (float) b.minBound()[r * cols + c];
            }
            IntDot.laneOrder(minBound, 0, bound, 0, cols);
            for (int c = 0; c < cols; c++) {
                float actual = dst.get(ValueLayout.JAVA_FLOAT, offset + 4L * ((r - r0) * cols + c));
                double tol = 4 * FLOAT_EPS * (Math.abs(expected[c]) + bound[c]) + 1e-40;
                assertThat((double) actual).as("%s row %d lane-ordered column %d", type, r, c)
                        .isCloseTo(expected[c], within(tol));
            }
        }
        assertThat(dst.get(ValueLayout.JAVA_FLOAT, offset + 4L * (r1 - r0) * cols)).as("nothing past the rows")
                .isZero();
        assertThat(dst.get(ValueLayout.JAVA_FLOAT, offset - 4)).as("nothing before the offset").isZero();
    }

    /** The lane order is a permutation within each group of {@link IntDot#SL} values: even places, then odd. */
    @org.junit.jupiter.api.Test
    void laneOrderIsTheKernelsPermutation() {
        int n = 2 * IntDot.SL;
        float[] src = new float[n + 1];
        for (int i = 0; i < src.length; i++) {
            src[i] = i;
        }
        float[] dst = new float[n + 2];
        IntDot.laneOrder(src, 1, dst, 2, n);
        int half = IntDot.SL / 2;
        for (int g = 0; g < n; g += IntDot.SL) {
            for (int i = 0; i < half; i++) {
                assertThat(dst[2 + g + i]).isEqualTo(1 + g + 2 * i);
                assertThat(dst[2 + g + half + i]).isEqualTo(1 + g + 2 * i + 1);
            }
        }
        assertThat(dst[0]).isZero();
        assertThat(dst[1]).isZero();
    }

    /**
     * A tensor of random blocks whose scales are drawn from {@link #EXTREME_SCALES} or are random, with the
     * value of every weight from the oracle, and for Q4_K a bound on the scale and minimum parts beyond |w|
     * ({@code 2 * 63 * |dmin|}: the kernel rounds both parts before they cancel).
     */
    record Built(WeightTensor tensor, float[] weights, double[] minBound) {
    }

    static Built extremeTensor(DType type, int rows, int cols, Random rnd) {
        long bytes = type.byteSize((long) rows * cols);
        MemorySegment seg = Arena.ofAuto().allocate(bytes + 8, 16).asSlice(5, bytes);
        byte[] raw = new byte[(int) bytes];
        rnd.nextBytes(raw);
        MemorySegment.copy(raw, 0, seg, ValueLayout.JAVA_BYTE, 0, raw.length);
        double[] minBound = new double[rows * cols];
        int perBlock = type.blockSize();
        for (long o = 0, v = 0; o < bytes; o += type.bytesPerBlock(), v += perBlock) {
            switch (type) {
                case Q8_0, Q4_0 -> seg.set(SHORT_LE, o, scaleBits(rnd));
                case Q6_K -> seg.set(SHORT_LE, o + 208, scaleBits(rnd));
                case Q4_K -> {
                    seg.set(SHORT_LE, o, scaleBits(rnd));
                    short dmin = scaleBits(rnd);
                    seg.set(SHORT_LE, o + 2, dmin);
                    for (long j = v; j < v + perBlock; j++) {
                        minBound[(int) j] = 126 * Math.abs(Float.float16ToFloat(dmin));
                    }
                }
                default -> throw new IllegalArgumentException(type.toString());
            }
        }
        float[] w = new float[rows * cols];
        Dequantizer.dequantize(type, seg, 0, w, 0, w.length);
        WeightTensor t = new WeightTensor("extreme." + type, type, new long[] {rows, cols}, seg.asReadOnly());
        return new Built(t, w, minBound);
    }

    private static short scaleBits(Random rnd) {
        float f = rnd.nextBoolean() ? EXTREME_SCALES[rnd.nextInt(EXTREME_SCALES.length)]
                : (float) rnd.nextGaussian() * 0.05f;
        return Float.floatToFloat16(f);
    }
}
