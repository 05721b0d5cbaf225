package dev.bulkhead.engine.internal.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The split-K decode partitioning: enough blocks for the device, never past the default shared memory. */
class DecodeSplitTest {

    private static final int H100_SMS = 132;

    private static long blocks(int queries, int heads, DecodeSplit s) {
        return (long) queries * heads * s.partitions();
    }

    @Test
    void aBatchOneStepOfAnEightBModelGivesEverySmAtLeastTwoBlocks() {
        for (int ctx : new int[] {1024, 4096, 32768, 131072}) {
            DecodeSplit s = DecodeSplit.choose(1, 32, ctx, 128, H100_SMS);
            assertThat(blocks(1, 32, s)).as("context %d", ctx).isGreaterThanOrEqualTo(2L * H100_SMS);
            assertThat((long) s.partitions() * s.partitionSize()).isGreaterThanOrEqualTo(ctx);
            assertThat(s.sharedBytes(128)).isLessThanOrEqualTo(DecodeSplit.DEFAULT_SHARED_BYTES);
        }
    }

    @Test
    void aLargeBatchIsNotSplitFurtherThanItNeeds() {
        DecodeSplit s = DecodeSplit.choose(64, 32, 4096, 128, H100_SMS);
        assertThat(s.partitions()).isEqualTo(1);
        assertThat(s.partitionSize()).isEqualTo(4096);
    }

    @Test
    void shortContextsKeepPartitionsOfAtLeastTheMinimum() {
        DecodeSplit s = DecodeSplit.choose(1, 32, 100, 128, H100_SMS);
        assertThat(s.partitions()).isEqualTo(2);
        assertThat(s.partitionSize()).isEqualTo(50);
    }

    @Test
    void contextsOfAMillionTokensStayWithinTheDefaultSharedMemory() {
        for (int queries : new int[] {1, 7, 256}) {
            DecodeSplit s = DecodeSplit.choose(queries, 8, 1 << 20, 256, H100_SMS);
            assertThat(s.sharedBytes(256)).isLessThanOrEqualTo(DecodeSplit.DEFAULT_SHARED_BYTES);
            assertThat((long) queries * s.partitions())
                    .isLessThanOrEqualTo(DecodeSplit.maxPairs(256, 8, 1 << 20, 256, H100_SMS));
        }
    }

    @Test
    void theBufferBoundHoldsForEveryBatchSizeAndContext() {
        int maxQueries = 256;
        int maxContext = 40_000;
        long bound = DecodeSplit.maxPairs(maxQueries, 12, maxContext, 64, H100_SMS);
        for (int q = 1; q <= maxQueries; q += 5) {
            for (int ctx = 1; ctx <= maxContext; ctx += 997) {
                DecodeSplit s = DecodeSplit.choose(q, 12, ctx, 64, H100_SMS);
                assertThat((long) q * s.partitions()).as("%d queries at context %d", q, ctx).isLessThanOrEqualTo(bound);
            }
        }
    }
}
