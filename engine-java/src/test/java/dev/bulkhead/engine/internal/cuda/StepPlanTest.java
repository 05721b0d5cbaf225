package dev.bulkhead.engine.internal.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.engine.internal.cuda.StepPlan.Section;
import dev.bulkhead.engine.internal.runner.BatchInput;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The host half of a CUDA step: slots, routing of tokens to the decode or prefill kernel, packing. */
class StepPlanTest {

    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void close() {
        arena.close();
    }

    private static final int MAX_BLOCKS = 8;

    private StepPlan plan(int maxTokens, int maxDecode) {
        return new StepPlan(maxTokens, MAX_BLOCKS, 4, 32, 100, 32, maxDecode);
    }

    private StepPlan build(StepPlan p, BatchInput b) {
        return p.build(b, arena.allocate(4 * StepPlan.intCount(16, MAX_BLOCKS)));
    }

    @Test
    void routesDecodeTokensToQueriesAndPrefillChunksToTiles() {
        // seq 0: decode at position 9; seq 1: 10-token prefill chunk from position 0; seq 2: decode at 30
        int[] ids = new int[12];
        int[] pos = {9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 30};
        BatchInput b = new BatchInput(ids, pos, new int[] {0, 1, 11, 12},
                new int[][] {{3, 1, 7}, {2, 5, 6}, {0, 1, 2, 3, 4, 5, 6, 9}}, new int[] {0, 10, 11});
        StepPlan p = build(plan(16, 16), b);
        assertThat(p.numQueries()).isEqualTo(2);
        assertThat(p.get(Section.QUERY_TOKENS, 0)).isZero();
        assertThat(p.get(Section.QUERY_TOKENS, 1)).isEqualTo(11);
        assertThat(p.numTiles()).isEqualTo(2);
        assertThat(new int[] {p.get(Section.TILE_START, 0), p.get(Section.TILE_LEN, 0), p.get(Section.TILE_START, 1),
                p.get(Section.TILE_LEN, 1)}).containsExactly(1, 8, 9, 2);
        // slot = block * blockSize + pos % blockSize
        assertThat(p.get(Section.SLOTS, 0)).isEqualTo(7 * 4 + 1);
        assertThat(p.get(Section.SLOTS, 10)).isEqualTo(6 * 4 + 1);
        assertThat(p.get(Section.SLOTS, 11)).isEqualTo(9 * 4 + 2);
        assertThat(p.get(Section.TOKEN_SEQ, 5)).isEqualTo(1);
        // block tables padded to this step's longest table (8 entries here)
        assertThat(p.blockTableStride()).isEqualTo(8);
        assertThat(p.get(Section.BLOCK_TABLES, 8 + 1)).isEqualTo(5);
        assertThat(p.get(Section.BLOCK_TABLES, 8 + 3)).isZero();
        assertThat(p.maxDecodeContext()).isEqualTo(31);
        assertThat(p.numLogitRows()).isEqualTo(3);
        assertThat(p.usedBytes()).isEqualTo(p.byteOffset(Section.BLOCK_TABLES) + 4L * 3 * 8);
    }

    @Test
    void blockTablesUseThisStepsLongestTableAsTheStrideNotThePoolsLongestPossible() {
        // Pool of 8 blocks per sequence at most; this step's sequences hold 2 and 3 blocks.
        BatchInput b = new BatchInput(new int[2], new int[] {5, 9}, new int[] {0, 1, 2}, new int[][] {{4, 6}, {1, 2, 3}},
                new int[] {0, 1});
        StepPlan p = build(plan(16, 16), b);
        assertThat(p.blockTableStride()).isEqualTo(3);
        assertThat(new int[] {p.get(Section.BLOCK_TABLES, 0), p.get(Section.BLOCK_TABLES, 1),
                p.get(Section.BLOCK_TABLES, 3), p.get(Section.BLOCK_TABLES, 5)}).containsExactly(4, 6, 1, 3);
        assertThat(p.usedBytes()).isEqualTo(p.byteOffset(Section.BLOCK_TABLES) + 4L * 2 * 3);
    }

    @Test
    void decodeTokensBeyondTheDecodeCapacityGoThroughThePrefillKernel() {
        BatchInput b = new BatchInput(new int[3], new int[] {4, 4, 4}, new int[] {0, 1, 2, 3},
                new int[][] {{0, 1}, {2, 3}, {4, 5}}, new int[] {0, 1, 2});
        StepPlan p = build(plan(8, 2), b);
        assertThat(p.numQueries()).isEqualTo(2);
        assertThat(p.numTiles()).isEqualTo(1);
        assertThat(p.get(Section.TILE_START, 0)).isEqualTo(2);
    }

    @Test
    void rejectsWhatTheCpuRunnerRejects() {
        StepPlan p = plan(4, 4);
        assertThatThrownBy(() -> build(p, BatchInput.single(new int[] {1, 2, 3, 4, 5}, 0, new int[] {0, 1})))
                .hasMessageContaining("at most 4");
        assertThatThrownBy(() -> build(p, BatchInput.single(new int[] {100}, 0, new int[] {0})))
                .hasMessageContaining("token id 100");
        assertThatThrownBy(() -> build(p, BatchInput.single(new int[] {1}, 4, new int[] {0})))
                .hasMessageContaining("position 4");
        assertThatThrownBy(() -> build(p, BatchInput.single(new int[] {1}, 0, new int[] {32})))
                .hasMessageContaining("block 32");
    }

    @Test
    void packsTheTokensFedFromThePreviousStepAsPairsAndABuildForgetsThem() {
        // seq 0 and 2 decode a token the step before sampled (its logit rows 4 and 1); seq 1 is a known token.
        BatchInput b = new BatchInput(new int[] {0, 17, 0}, new int[] {5, 3, 8}, new int[] {0, 1, 2, 3},
                new int[][] {{1, 2}, {3}, {4, 5, 6}}, new int[] {0, 1, 2});
        StepPlan p = build(plan(16, 16), b);
        assertThat(p.feed(new int[] {4, -1, 1})).isEqualTo(2);
        assertThat(new int[] {p.get(Section.FEED, 0), p.get(Section.FEED, 1), p.get(Section.FEED, 2),
                p.get(Section.FEED, 3)}).containsExactly(0, 4, 2, 1);
        assertThat(p.byteOffset(Section.BLOCK_TABLES) - p.byteOffset(Section.FEED)).as("two ints a token")
                .isEqualTo(2L * 4 * 16);
        assertThat(p.usedBytes()).isGreaterThan(p.byteOffset(Section.FEED) + 4L * 4);
        build(p, b);
        assertThat(p.numFeeds()).isZero();
        assertThat(p.feed(null)).isZero();
    }
}
