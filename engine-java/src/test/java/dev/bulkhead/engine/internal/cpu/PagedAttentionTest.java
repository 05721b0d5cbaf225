package dev.bulkhead.engine.internal.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PagedAttentionTest {

    private static final int LAYERS = 2;
    private static final int BLOCKS = 12;
    private static final int BLOCK_SIZE = 4;
    private static final int KV_HEADS = 2;
    private static final int HEADS = 6;
    private static final int HEAD_DIM = 20;

    /** A sequence written through a scattered block table, plus the same K and V kept contiguously. */
    private record Sequence(int[] blockTable, float[][] k, float[][] v) {
    }

    private static Sequence fill(CpuKvCache cache, int layer, int length, Random rnd) {
        List<Integer> blocks = new ArrayList<>();
        for (int b = 0; b < BLOCKS; b++) {
            blocks.add(b);
        }
        Collections.shuffle(blocks, rnd);
        int[] table = blocks.subList(0, (length + BLOCK_SIZE - 1) / BLOCK_SIZE).stream().mapToInt(i -> i).toArray();
        float[][] k = new float[length][];
        float[][] v = new float[length][];
        for (int p = 0; p < length; p++) {
            k[p] = TestTensors.gaussian(KV_HEADS * HEAD_DIM, rnd);
            v[p] = TestTensors.gaussian(KV_HEADS * HEAD_DIM, rnd);
            int slot = table[p / BLOCK_SIZE] * BLOCK_SIZE + p % BLOCK_SIZE;
            cache.write(layer, slot, k[p], 0, v[p], 0);
        }
        return new Sequence(table, k, v);
    }

    /** Naive attention over a contiguous copy of the sequence, in double. */
    private static double[] naive(Sequence s, float[] q, int head, int first, int contextLen, float scale) {
        int kvHead = head / (HEADS / KV_HEADS);
        double[] scores = new double[contextLen];
        double max = Double.NEGATIVE_INFINITY;
        for (int p = first; p < contextLen; p++) {
            double dot = 0;
            for (int d = 0; d < HEAD_DIM; d++) {
                dot += (double) q[head * HEAD_DIM + d] * s.k()[p][kvHead * HEAD_DIM + d];
            }
            scores[p] = dot * scale;
            max = Math.max(max, scores[p]);
        }
        double sum = 0;
        for (int p = first; p < contextLen; p++) {
            scores[p] = Math.exp(scores[p] - max);
            sum += scores[p];
        }
        double[] out = new double[HEAD_DIM];
        for (int p = first; p < contextLen; p++) {
            for (int d = 0; d < HEAD_DIM; d++) {
                out[d] += scores[p] / sum * s.v()[p][kvHead * HEAD_DIM + d];
            }
        }
        return out;
    }

    @Test
    void matchesNaiveAttentionOverAScatteredBlockTable() {
        Random rnd = new Random(21);
        CpuKvCache cache = new CpuKvCache(LAYERS, BLOCKS, BLOCK_SIZE, KV_HEADS, HEAD_DIM);
        int length = 37;
        Sequence s = fill(cache, 1, length, rnd);
        fill(cache, 0, length, rnd); // another layer's data must not leak in
        float scale = (float) (1 / Math.sqrt(HEAD_DIM));
        float[] q = TestTensors.gaussian(HEADS * HEAD_DIM, rnd);
        float[] scratch = new float[length];
        for (int contextLen : new int[] {1, 2, 4, 5, 16, 37}) {
            for (int window : new int[] {0, 1, 3, 8, 100}) {
                for (int head = 0; head < HEADS; head++) {
                    float[] out = new float[HEAD_DIM + 3];
                    out[0] = 42f;
                    PagedAttention.attend(cache, 1, q, 0, head, HEADS, s.blockTable(), contextLen, window, scale,
                            out, 1, scratch);
                    int first = window > 0 ? Math.max(0, contextLen - window) : 0;
                    double[] expected = naive(s, q, head, first, contextLen, scale);
                    assertThat(out[0]).isEqualTo(42f);
                    for (int d = 0; d < HEAD_DIM; d++) {
                        assertThat((double) out[1 + d]).as("ctx=%d window=%d head=%d d=%d", contextLen, window, head, d)
                                .isCloseTo(expected[d], within(2e-5));
                    }
                }
            }
        }
        float[] full = new float[HEAD_DIM];
        float[] windowed = new float[HEAD_DIM];
        PagedAttention.attend(cache, 1, q, 0, 3, HEADS, s.blockTable(), 20, scale, full, 0, scratch);
        PagedAttention.attend(cache, 1, q, 0, 3, HEADS, s.blockTable(), 20, 0, scale, windowed, 0, scratch);
        assertThat(windowed).isEqualTo(full);
    }

    /**
     * The kernel (eight or four keys at a time, the output kept in registers) gives the bits of the plain
     * algorithm: each score a {@link Vectors#dot} times the scale, then per position in order
     * {@code out = fma(v, w, out)}. A head size past four vectors with a vector and a scalar tail left over, one of
     * whole vectors in blocks of sixteen (eight keys a step, their lane trees taken together where a vector has
     * eight lanes), and context lengths that are not multiples of four or eight, take every path.
     */
    @Test
    void givesTheBitsOfOnePositionAtATime() {
        for (int[] shape : new int[][] {{75, BLOCK_SIZE}, {64, 16}, {64, 11}, {8, 16}}) {
            givesTheBitsOfOnePositionAtATime(shape[0], shape[1]);
        }
    }

    private static void givesTheBitsOfOnePositionAtATime(int headDim, int blockSize) {
        Random rnd = new Random(5);
        int heads = 4;
        int kvHeads = 2;
        CpuKvCache cache = new CpuKvCache(1, 16, blockSize, kvHeads, headDim);
        int length = 41;
        int[] table = {9, 3, 14, 0, 7, 1, 12, 5, 2, 11, 6};
        for (int p = 0; p < length; p++) {
            cache.write(0, table[p / blockSize] * blockSize + p % blockSize,
                    TestTensors.gaussian(kvHeads * headDim, rnd), 0, TestTensors.gaussian(kvHeads * headDim, rnd), 0);
        }
        float[] q = TestTensors.gaussian(heads * headDim, rnd);
        float scale = 0.11f;
        for (int contextLen : new int[] {1, 3, 4, 6, 9, 17, 40, 41}) {
            for (int head = 0; head < heads; head++) {
                float[] out = new float[headDim];
                PagedAttention.attend(cache, 0, q, 0, head, heads, table, contextLen, scale, out, 0, new float[length]);
                int kvOff = head / (heads / kvHeads) * headDim;
                float[] w = new float[contextLen];
                for (int p = 0; p < contextLen; p++) {
                    int slot = (table[p / blockSize] * blockSize + p % blockSize) * cache.slotSize() + kvOff;
                    w[p] = Vectors.dot(q, head * headDim, cache.keys(0), slot, headDim) * scale;
                }
                CpuKernels.softmax(w, 0, contextLen);
                float[] expected = new float[headDim];
                for (int p = 0; p < contextLen; p++) {
                    int slot = (table[p / blockSize] * blockSize + p % blockSize) * cache.slotSize() + kvOff;
                    for (int d = 0; d < headDim; d++) {
                        expected[d] = Math.fma(cache.values(0)[slot + d], w[p], expected[d]);
                    }
                }
                assertThat(out).as("headDim %d blockSize %d contextLen %d head %d", headDim, blockSize, contextLen, head)
                        .isEqualTo(expected);
            }
        }
    }

    /**
     * Consecutive tokens taken together (each key and value read once for four tokens) give each token the bits
     * of {@link PagedAttention#attend}: head sizes with and without vector and scalar tails, odd and even runs
     * of positions within a block, windows that cut some tokens' first positions (the one-token path) and ones
     * that do not, and one to eleven tokens (up to two whole tiles of four and a remainder).
     */
    @Test
    void consecutiveTokensTogetherGiveTheBitsOfOneTokenAtATime() {
        Random rnd = new Random(8);
        int heads = 4;
        int kvHeads = 2;
        int length = 43;
        int[] table = {9, 3, 14, 0, 7, 1, 12, 5, 2, 11, 6, 15, 4, 10, 8};
        for (int headDim : new int[] {64, 75, 8, 3}) {
            for (int blockSize : new int[] {4, 3, 16, 11}) {
                CpuKvCache cache = new CpuKvCache(1, 16, blockSize, kvHeads, headDim);
                for (int p = 0; p < length; p++) {
                    cache.write(0, table[p / blockSize] * blockSize + p % blockSize,
                            TestTensors.gaussian(kvHeads * headDim, rnd), 0,
                            TestTensors.gaussian(kvHeads * headDim, rnd), 0);
                }
                int qStride = heads * headDim + 5;
                float[] q = TestTensors.gaussian(11 * qStride, rnd);
                for (int firstContextLen : new int[] {1, 2, 5, 8, 13, 33}) {
                    for (int count = 1; count <= 11; count++) {
                        for (int window : new int[] {0, 6, 100}) {
                            for (int head = 0; head < heads; head++) {
                                int outStride = headDim + 2;
                                float[] together = new float[11 * outStride + 1];
                                float[] scratch = new float[count * (firstContextLen + count - 1)];
                                PagedAttention.attendQueries(cache, 0, q, 0, qStride, head, heads, table,
                                        firstContextLen, count, window, 0.2f, together, 1, outStride, scratch);
                                float[] alone = new float[together.length];
                                for (int i = 0; i < count; i++) {
                                    PagedAttention.attend(cache, 0, q, i * qStride, head, heads, table,
                                            firstContextLen + i, window, 0.2f, alone, 1 + i * outStride,
                                            new float[length]);
                                }
                                assertThat(together).as("headDim %d blockSize %d context %d count %d window %d head %d",
                                        headDim, blockSize, firstContextLen, count, window, head).isEqualTo(alone);
                            }
                        }
                    }
                }
            }
        }
        CpuKvCache cache = new CpuKvCache(1, 4, BLOCK_SIZE, KV_HEADS, HEAD_DIM);
        float[] q = new float[4 * HEADS * HEAD_DIM];
        float[] out = new float[4 * HEAD_DIM];
        assertThatThrownBy(() -> PagedAttention.attendQueries(cache, 0, q, 0, HEADS * HEAD_DIM, 0, HEADS,
                new int[] {2, 0}, 5, 4, 0, 1f, out, 0, HEAD_DIM, new float[31]))
                .hasMessageContaining("scratch needs 32");
        assertThatThrownBy(() -> PagedAttention.attendQueries(cache, 0, q, 0, HEADS * HEAD_DIM, 0, HEADS,
                new int[] {2, 0}, 6, 4, 0, 1f, out, 0, HEAD_DIM, new float[36]))
                .hasMessageContaining("cannot hold contextLen 9");
        assertThatThrownBy(() -> PagedAttention.attendQueries(cache, 0, q, 0, HEADS * HEAD_DIM, 0, HEADS,
                new int[] {2, 0}, 5, 0, 0, 1f, out, 0, HEAD_DIM, new float[36]))
                .hasMessageContaining("count must be >= 1");
    }

    /** Heads run concurrently on the pool, each with its own scratch, give the serial results bit for bit. */
    @Test
    void isThreadSafeWithDistinctOutputsAndScratch() {
        Random rnd = new Random(22);
        CpuKvCache cache = new CpuKvCache(1, BLOCKS, BLOCK_SIZE, KV_HEADS, HEAD_DIM);
        Sequence s = fill(cache, 0, 45, rnd);
        int tokens = 9;
        float[] q = TestTensors.gaussian(tokens * HEADS * HEAD_DIM, rnd);
        float[] serial = new float[tokens * HEADS * HEAD_DIM];
        float[] scratch = new float[45];
        for (int i = 0; i < tokens * HEADS; i++) {
            int t = i / HEADS;
            PagedAttention.attend(cache, 0, q, t * HEADS * HEAD_DIM, i % HEADS, HEADS, s.blockTable(), 37 + t, 0.3f,
                    serial, i * HEAD_DIM, scratch);
        }
        try (CpuThreadPool pool = new CpuThreadPool(3)) {
            for (int trial = 0; trial < 50; trial++) {
                float[] parallel = new float[serial.length];
                pool.parallelFor(tokens * HEADS, 1, (start, end) -> {
                    float[] own = new float[45];
                    for (int i = start; i < end; i++) {
                        int t = i / HEADS;
                        PagedAttention.attend(cache, 0, q, t * HEADS * HEAD_DIM, i % HEADS, HEADS, s.blockTable(),
                                37 + t, 0.3f, parallel, i * HEAD_DIM, own);
                    }
                });
                assertThat(parallel).isEqualTo(serial);
            }
        }
    }

    @Test
    void rejectsInconsistentArguments() {
        CpuKvCache cache = new CpuKvCache(1, 4, BLOCK_SIZE, KV_HEADS, HEAD_DIM);
        float[] q = new float[HEADS * HEAD_DIM];
        float[] out = new float[HEAD_DIM];
        int[] table = {2, 0};
        assertThatThrownBy(() -> PagedAttention.attend(cache, 0, q, 0, 0, HEADS, table, 9, 1f, out, 0, new float[9]))
                .hasMessageContaining("block table of 2 blocks");
        assertThatThrownBy(() -> PagedAttention.attend(cache, 0, q, 0, 0, HEADS, table, 8, 1f, out, 0, new float[7]))
                .hasMessageContaining("scratch needs 8");
        assertThatThrownBy(() -> PagedAttention.attend(cache, 0, q, 0, 0, 5, table, 8, 1f, out, 0, new float[8]))
                .hasMessageContaining("multiple of numKvHeads");
        assertThatThrownBy(() -> PagedAttention.attend(cache, 0, q, 0, 0, HEADS, table, 0, 1f, out, 0, new float[8]))
                .hasMessageContaining("contextLen");
    }

    @Test
    void cacheWritesLandInTheDocumentedLayout() {
        CpuKvCache cache = new CpuKvCache(2, 3, 4, 2, 5);
        float[] k = new float[12];
        float[] v = new float[12];
        for (int i = 0; i < 10; i++) {
            k[2 + i] = i + 1;
            v[2 + i] = -(i + 1);
        }
        cache.write(1, 9, k, 2, v, 2); // block 2, offset 1
        assertThat(cache.slotSize()).isEqualTo(10);
        for (int h = 0; h < 2; h++) {
            for (int d = 0; d < 5; d++) {
                int index = ((2 * 4 + 1) * 2 + h) * 5 + d;
                assertThat(cache.keys(1)[index]).isEqualTo(h * 5 + d + 1);
                assertThat(cache.values(1)[index]).isEqualTo(-(h * 5 + d + 1));
            }
        }
        assertThat(cache.keys(0)).containsOnly(0f);
        assertThatThrownBy(() -> cache.write(0, 12, k, 0, v, 0)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> new CpuKvCache(1, 0, 4, 2, 5)).hasMessageContaining("numBlocks must be >= 1");
        assertThatThrownBy(() -> new CpuKvCache(1, 1 << 20, 1 << 10, 8, 128))
                .hasMessageContaining("floats per layer");
    }
}
