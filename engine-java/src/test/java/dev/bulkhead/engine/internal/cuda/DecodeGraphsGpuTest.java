package dev.bulkhead.engine.internal.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.cuemu.CudaEmulator;
import dev.bulkhead.cuemu.EmulatorSeedReporter;
import dev.bulkhead.cuemu.GpuTarget;
import dev.bulkhead.engine.internal.cuda.ComparedModels.Compared;
import dev.bulkhead.engine.internal.cuda.CudaModelRunner.DecodeSteps;
import dev.bulkhead.engine.internal.runner.BatchInput;
import dev.bulkhead.engine.internal.runner.CpuRunnerOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * CUDA graphs of decode steps: a replay gives, bit for bit, what the same padded launches give eagerly, for
 * every bucket; a step of another shape captures its own bucket or runs eagerly, and never replays a graph
 * of another shape; and graph runs stay within the bf16 tolerance of the CPU.
 */
@Tag("gpu")
@ExtendWith(EmulatorSeedReporter.class)
class DecodeGraphsGpuTest {

    private static final int BLOCK = 16;
    private static final int BLOCKS_PER_SEQ = 8;

    @TempDir
    static Path tmp;
    static Compared model;

    @BeforeAll
    static void load() {
        GpuTarget.require();
        model = ComparedModels.load("stories260K", tmp);
    }

    @AfterAll
    static void close() {
        if (model != null) {
            model.close();
        }
    }

    /** Sequences decoding side by side, each with its own blocks; prompts of different lengths. */
    private static final class Batch {
        final List<int[]> tables = new ArrayList<>();
        final List<Integer> length = new ArrayList<>();
        final List<Integer> last = new ArrayList<>();
        final Random r = new Random(41);

        /** Adds a sequence with a prompt of {@code n} tokens and returns the prefill step for it alone. */
        BatchInput add(int n) {
            int s = tables.size();
            tables.add(IntStream.range(1 + s * BLOCKS_PER_SEQ, 1 + (s + 1) * BLOCKS_PER_SEQ).toArray());
            int[] prompt = new int[n];
            prompt[0] = 1;
            for (int i = 1; i < n; i++) {
                prompt[i] = 3 + r.nextInt(509);
            }
            length.add(n);
            last.add(prompt[n - 1]);
            return BatchInput.single(prompt, 0, tables.get(s));
        }

        /** One decode token for each of the first {@code seqs} sequences, fed {@code next}. */
        BatchInput decode(int seqs, int[] next) {
            int[] tokens = new int[seqs];
            int[] pos = new int[seqs];
            for (int s = 0; s < seqs; s++) {
                tokens[s] = next[s];
                pos[s] = length.get(s);
                length.set(s, length.get(s) + 1);
            }
            int[] starts = IntStream.rangeClosed(0, seqs).toArray();
            return new BatchInput(tokens, pos, starts, tables.subList(0, seqs).toArray(int[][]::new),
                    IntStream.range(0, seqs).toArray());
        }
    }

    private static CudaModelRunner runner(DecodeSteps mode) {
        return new CudaModelRunner(model.weights(), new CpuRunnerOptions(1, BLOCK, 1 + 40 * BLOCKS_PER_SEQ, 64), 0, mode);
    }

    private static int[] argmaxes(float[] logits, int rows, int vocab) {
        int[] ids = new int[rows];
        for (int r = 0; r < rows; r++) {
            ids[r] = CudaMatchesCpuGpuTest.argmax(logits, r * vocab, vocab);
        }
        return ids;
    }

    /**
     * Feeds both runners the same steps: sequences join (prefill, run eagerly) between decode steps of every
     * batch size in {@code sizes}; asserts every decode step's logits are bit-identical.
     */
    private static void assertSameSteps(CudaModelRunner graphs, CudaModelRunner eager, int[] sizes, int stepsEach) {
        int vocab = model.config().vocabSize();
        Batch batch = new Batch();
        for (int size : sizes) {
            while (batch.tables.size() < size) {
                BatchInput prefill = batch.add(3 + batch.tables.size() % 7);
                float[] a = graphs.forward(prefill).clone();
                float[] b = eager.forward(prefill);
                assertThat(Arrays.equals(a, 0, vocab, b, 0, vocab)).as("prefill logits").isTrue();
            }
            int[] next = batch.last.stream().mapToInt(Integer::intValue).toArray();
            for (int step = 0; step < stepsEach; step++) {
                BatchInput d = batch.decode(size, next);
                float[] a = graphs.forward(d).clone();
                float[] b = eager.forward(d);
                for (int r = 0; r < size; r++) {
                    assertThat(Arrays.equals(a, r * vocab, (r + 1) * vocab, b, r * vocab, (r + 1) * vocab))
                            .as("batch %d step %d row %d: graph replay equals the eager launches", size, step, r).isTrue();
                }
                next = Arrays.copyOf(argmaxes(a, size, vocab), batch.tables.size());
                for (int s = size; s < next.length; s++) {
                    next[s] = batch.last.get(s);
                }
                for (int s = 0; s < size; s++) {
                    batch.last.set(s, next[s]);
                }
            }
        }
    }

    @Test
    void everyBucketReplaysBitIdenticallyToTheSameLaunchesRunEagerly() {
        long launchesBefore = CudaEmulator.isActive() ? CudaEmulator.stats().graphLaunches() : 0;
        try (CudaModelRunner graphs = runner(DecodeSteps.GRAPHS);
             CudaModelRunner eager = runner(DecodeSteps.GRAPH_SHAPES_EAGER)) {
            // Buckets 1, 2, 4, 8, 16, 24, 32, 40 (sizes pad up to them), each several steps so later ones replay.
            int[] sizes = {1, 2, 3, 4, 5, 8, 11, 16, 24, 29, 40};
            assertSameSteps(graphs, eager, sizes, 3);
            assertThat(graphs.capturedGraphs()).as("one graph per bucket").isEqualTo(8);
            assertThat(graphs.graphReplays()).isEqualTo((long) sizes.length * 3);
            assertThat(eager.capturedGraphs()).isZero();
        }
        if (CudaEmulator.isActive()) {
            assertThat(CudaEmulator.stats().graphLaunches() - launchesBefore).isEqualTo(11L * 3);
        }
    }

    @Test
    void stepsOfOtherShapesRunEagerlyBetweenReplaysAndContextsGrowPastPartitionBoundaries() {
        try (CudaModelRunner graphs = runner(DecodeSteps.GRAPHS);
             CudaModelRunner eager = runner(DecodeSteps.GRAPH_SHAPES_EAGER)) {
            // Batch 2 for 90 steps: contexts from ~5 to ~95 cross several split-K partitions of the graph's split.
            assertSameSteps(graphs, eager, new int[] {2}, 90);
            assertThat(graphs.capturedGraphs()).isEqualTo(1);
            // A mixed step (a decode beside a prefill) is not graphable: it runs eagerly on both and still matches.
            int vocab = model.config().vocabSize();
            int[][] tables = {IntStream.range(300, 308).toArray(), IntStream.range(308, 316).toArray()};
            BatchInput prompt = BatchInput.single(new int[] {1, 42, 43, 44}, 0, tables[0]);
            graphs.forward(prompt);
            eager.forward(prompt);
            BatchInput mixed = new BatchInput(new int[] {45, 1, 7, 8}, new int[] {4, 0, 1, 2}, new int[] {0, 1, 4},
                    tables, new int[] {0, 3});
            float[] a = graphs.forward(mixed).clone();
            float[] b = eager.forward(mixed);
            assertThat(a[0]).as("a real logit").isNotNaN();
            assertThat(Arrays.equals(a, 0, 2 * vocab, b, 0, 2 * vocab)).isTrue();
            assertThat(graphs.capturedGraphs()).as("no graph for a mixed step").isEqualTo(1);
        }
    }

    @Test
    void greedyDecodeThroughGraphsMatchesTheCpuOnBf16Weights() {
        // The CPU reference and tolerance of CudaMatchesCpuGpuTest, through greedy() (argmax on the device).
        CudaMatchesCpuGpuTest.Reference ref = CudaMatchesCpuGpuTest.cpuReference(model);
        int vocab = model.config().vocabSize();
        int[] blocks = CudaMatchesCpuGpuTest.table(CudaMatchesCpuGpuTest.TOTAL, BLOCK);
        int prompt = CudaMatchesCpuGpuTest.PROMPT;
        int checked = 0;
        try (CudaModelRunner graphs = new CudaModelRunner(model.weights(),
                new CpuRunnerOptions(1, BLOCK, blocks.length + 1, 64), 0, DecodeSteps.GRAPHS)) {
            int[] ids = graphs.greedy(BatchInput.single(Arrays.copyOf(ref.tokens(), prompt), 0, blocks));
            for (int pos = prompt; pos < CudaMatchesCpuGpuTest.TOTAL; pos++) {
                if (CudaMatchesCpuGpuTest.gap(ref.logits(), (pos - 1) * vocab, vocab)
                        > 2 * CudaMatchesCpuGpuTest.tolerance(ref.logits(), pos - 1, vocab)) {
                    assertThat(ids[0]).as("greedy id after position %d", pos - 1)
                            .isEqualTo(CudaMatchesCpuGpuTest.argmax(ref.logits(), (pos - 1) * vocab, vocab));
                    checked++;
                }
                ids = graphs.greedy(BatchInput.single(new int[] {ref.tokens()[pos]}, pos, blocks));
            }
            assertThat(graphs.graphReplays()).isGreaterThan(100);
        }
        assertThat(checked).isGreaterThan(50);
    }
}
