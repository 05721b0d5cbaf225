package dev.bulkhead.engine.internal.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.cuemu.EmulatorSeedReporter;
import dev.bulkhead.cuemu.GpuTarget;
import dev.bulkhead.engine.internal.cuda.ComparedModels.Compared;
import dev.bulkhead.engine.internal.cuda.CudaModelRunner.DecodeSteps;
import dev.bulkhead.engine.internal.runner.BatchInput;
import dev.bulkhead.engine.internal.runner.CpuRunnerOptions;
import dev.bulkhead.engine.internal.runner.SamplingRows;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runner's side of asynchronous scheduling: steps launched without waiting, each decode token taking the id the
 * step before sampled, on the device ({@code bk_feed_sampled_ids}), give the ids of the same steps run one at a time
 * with the tokens known on the host, eagerly and through decode graphs, greedy and seeded; each launched step gets
 * its own ids back even when the device has finished the next one, copy included, before the host asks.
 */
@Tag("gpu")
@ExtendWith(EmulatorSeedReporter.class)
class PipelinedLaunchGpuTest {

    private static final int BLOCK = 16;
    private static final int BLOCKS_PER_SEQ = 4;
    private static final int SEQS = 3;

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

    private static CudaModelRunner runner(DecodeSteps mode) {
        return new CudaModelRunner(model.weights(), new CpuRunnerOptions(1, BLOCK, 1 + SEQS * BLOCKS_PER_SEQ, 64), 0,
                mode);
    }

    private static int[] table(int s) {
        return IntStream.range(1 + s * BLOCKS_PER_SEQ, 1 + (s + 1) * BLOCKS_PER_SEQ).toArray();
    }

    /** Sequence s greedy when s is even, else sampled with seed s; step = tokens produced before. */
    private static SamplingRows rows(int seqs, int produced) {
        SamplingRows rows = new SamplingRows();
        rows.start(seqs);
        for (int s = 0; s < seqs; s++) {
            rows.device(s % 2 == 0 ? 0f : 0.9f, 0, 1f, 0f, 1f, 0f, 0f, s, produced);
            rows.endRow();
        }
        return rows;
    }

    /** The prefill of every sequence in one step: prompt s has 3 + 2s tokens. */
    private static BatchInput prefill() {
        int[] starts = new int[SEQS + 1];
        int n = 0;
        for (int s = 0; s < SEQS; s++) {
            starts[s] = n;
            n += 3 + 2 * s;
        }
        starts[SEQS] = n;
        int[] tokens = new int[n];
        int[] pos = new int[n];
        int[] logitRows = new int[SEQS];
        for (int s = 0; s < SEQS; s++) {
            for (int i = starts[s]; i < starts[s + 1]; i++) {
                tokens[i] = i == starts[s] ? 1 : 300 + 7 * i % 100;
                pos[i] = i - starts[s];
            }
            logitRows[s] = starts[s + 1] - 1;
        }
        return new BatchInput(tokens, pos, starts, IntStream.range(0, SEQS).mapToObj(PipelinedLaunchGpuTest::table)
                .toArray(int[][]::new), logitRows);
    }

    /** One decode token per sequence at step k after the prefill, with ids {@code ids}. */
    private static BatchInput decode(int k, int[] ids) {
        int[] pos = new int[SEQS];
        for (int s = 0; s < SEQS; s++) {
            pos[s] = 3 + 2 * s + k;
        }
        return new BatchInput(ids.clone(), pos, IntStream.rangeClosed(0, SEQS).toArray(),
                IntStream.range(0, SEQS).mapToObj(PipelinedLaunchGpuTest::table).toArray(int[][]::new),
                IntStream.range(0, SEQS).toArray());
    }

    /** Runs the prefill and {@code steps} decode steps one at a time, tokens fed on the host; ids of every step. */
    private static int[][] oneAtATime(CudaModelRunner r, int steps) {
        int[][] ids = new int[steps + 1][];
        ids[0] = r.forwardAndSample(prefill(), rows(SEQS, 0)).ids().clone();
        for (int k = 0; k < steps; k++) {
            ids[k + 1] = Arrays.copyOf(r.forwardAndSample(decode(k, Arrays.copyOf(ids[k], SEQS)), rows(SEQS, k + 1)).ids(),
                    SEQS);
        }
        ids[0] = Arrays.copyOf(ids[0], SEQS);
        return ids;
    }

    /** The same steps, each launched before the previous one is awaited, decode tokens fed on the device. */
    private static int[][] launchedAhead(CudaModelRunner r, int steps) {
        int[][] ids = new int[steps + 1][];
        int[] fromPrevious = IntStream.range(0, SEQS).toArray();
        r.launch(prefill(), rows(SEQS, 0), null);
        for (int k = 0; k < steps; k++) {
            // NOTE: the host does not know these ids yet: any valid id here, the device overwrites them.
            r.launch(decode(k, new int[SEQS]), rows(SEQS, k + 1), fromPrevious);
            ids[k] = Arrays.copyOf(r.awaitLaunched(), SEQS);
        }
        ids[steps] = Arrays.copyOf(r.awaitLaunched(), SEQS);
        return ids;
    }

    @Test
    void launchedStepsFedOnTheDeviceGiveTheIdsOfStepsRunOneAtATime() {
        int steps = GpuTarget.emulated() ? 12 : 40;
        for (DecodeSteps mode : new DecodeSteps[] {DecodeSteps.EAGER, DecodeSteps.GRAPHS}) {
            int[][] expected;
            try (CudaModelRunner r = runner(mode)) {
                expected = oneAtATime(r, steps);
            }
            try (CudaModelRunner r = runner(mode)) {
                int[][] got = launchedAhead(r, steps);
                for (int k = 0; k <= steps; k++) {
                    assertThat(got[k]).as("%s step %d", mode, k).containsExactly(expected[k]);
                }
                assertThat(r.overlappedLaunches()).as("every decode step launched before its feeder was awaited")
                        .isEqualTo(steps);
                assertThat(r.launchedPending()).isZero();
                if (mode == DecodeSteps.GRAPHS) {
                    assertThat(r.graphReplays()).isEqualTo(steps);
                }
            }
            assertThat(expected[steps][1]).as("the seeded row is not the greedy one").isNotEqualTo(expected[steps][0]);
        }
    }

    @Test
    void eachLaunchedStepGetsItsOwnIdsWhenTheDeviceRunsAheadOfTheHost() {
        int[][] expected;
        try (CudaModelRunner r = runner(DecodeSteps.EAGER)) {
            expected = oneAtATime(r, 1);
        }
        try (CudaModelRunner r = runner(DecodeSteps.EAGER)) {
            r.launch(prefill(), rows(SEQS, 0), null);
            r.launch(decode(0, new int[SEQS]), rows(SEQS, 1), IntStream.range(0, SEQS).toArray());
            assertThatThrownBy(() -> r.launch(decode(1, new int[SEQS]), rows(SEQS, 2), null))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("2 launched steps are pending");
            // NOTE: the emulator runs queued work only when waited for; this makes it finish both steps, as a GPU may.
            r.drainDevice();
            assertThat(Arrays.copyOf(r.awaitLaunched(), SEQS)).as("the prefill's ids").containsExactly(expected[0]);
            assertThat(Arrays.copyOf(r.awaitLaunched(), SEQS)).as("the decode's ids").containsExactly(expected[1]);
        }
    }

    @Test
    void aLaunchedPrefillChunkThatSamplesNothingIsAwaitedLikeAnyOther() {
        int[][] expected;
        try (CudaModelRunner r = runner(DecodeSteps.EAGER)) {
            expected = oneAtATime(r, 0);
        }
        try (CudaModelRunner r = runner(DecodeSteps.EAGER)) {
            // The first two tokens of sequence 0 alone, no logit row; then the whole prefill recomputes them.
            BatchInput chunk = new BatchInput(new int[] {1, 300}, new int[] {0, 1}, new int[] {0, 2},
                    new int[][] {table(0)}, new int[0]);
            r.launch(chunk, rows(0, 0), null);
            r.launch(prefill(), rows(SEQS, 0), null);
            r.awaitLaunched();
            assertThat(Arrays.copyOf(r.awaitLaunched(), SEQS)).containsExactly(expected[0]);
        }
    }

    @Test
    void aLaunchRefusesHostRowsAndFeedsFromAStepThatWasNotLaunched() {
        try (CudaModelRunner r = runner(DecodeSteps.EAGER)) {
            SamplingRows host = new SamplingRows();
            host.start(SEQS);
            for (int s = 0; s < SEQS; s++) {
                host.host();
            }
            assertThatThrownBy(() -> r.launch(prefill(), host, null)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("needs the host sampler");
            r.forwardAndSample(prefill(), rows(SEQS, 0));
            assertThatThrownBy(() -> r.launch(decode(0, new int[SEQS]), rows(SEQS, 1), new int[] {0, 1, 2}))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("not launched");
            assertThat(r.launchedPending()).isZero();
        }
    }
}
