package dev.bulkhead.kvcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BlockPoolTest {

    private static final int BS = 4;

    @Test
    void allocatesEveryBlockButTheNullBlockOnce() {
        BlockPool pool = new BlockPool(6, BS);
        List<Integer> got = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            got.add(pool.allocate());
        }
        assertThat(got).containsExactly(1, 2, 3, 4, 5);
        assertThat(pool.numAvailable()).isZero();
        assertThatThrownBy(pool::allocate).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no KV block available");
    }

    @Test
    void refCountsTrackTouchAndRelease() {
        BlockPool pool = new BlockPool(4, BS);
        int b = pool.allocate();
        pool.register(b, 42L, 0L, BlockPool.NULL_BLOCK, 0, new int[] {1, 2, 3, 4}, 0);
        pool.touch(b);
        assertThat(pool.refCount(b)).isEqualTo(2);
        pool.release(b);
        pool.release(b);
        assertThat(pool.refCount(b)).isZero();
        assertThat(pool.numEvictable()).isEqualTo(1);
        pool.touch(b);
        assertThat(pool.numEvictable()).isZero();
        assertThat(pool.refCount(b)).isEqualTo(1);
        pool.release(b);
        assertThatThrownBy(() -> pool.release(b)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("ref count 0");
    }

    @Test
    void releasedUncachedBlocksAreReusedBeforeCachedOnesAreEvicted() {
        BlockPool pool = new BlockPool(4, BS);
        int cachedBlock = pool.allocate();
        int plain = pool.allocate();
        pool.register(cachedBlock, 7L, 0L, BlockPool.NULL_BLOCK, 0, new int[] {9, 9, 9, 9}, 0);
        pool.release(cachedBlock);
        pool.release(plain);
        // NOTE: block 3 was never used, then the released plain block; the cached one only after both.
        assertThat(pool.allocate()).isEqualTo(3);
        assertThat(pool.allocate()).isEqualTo(plain);
        assertThat(pool.lookup(7L, 0L, BlockPool.NULL_BLOCK, new int[] {9, 9, 9, 9}, 0)).isEqualTo(cachedBlock);
        assertThat(pool.allocate()).isEqualTo(cachedBlock);
        assertThat(pool.evictions()).isEqualTo(1);
        assertThat(pool.lookup(7L, 0L, BlockPool.NULL_BLOCK, new int[] {9, 9, 9, 9}, 0))
                .isEqualTo(BlockPool.NOT_FOUND);
    }

    @Test
    void evictsCachedBlocksInLeastRecentlyReleasedOrder() {
        BlockPool pool = new BlockPool(5, BS);
        int[] blocks = new int[4];
        for (int i = 0; i < 4; i++) {
            blocks[i] = pool.allocate();
            pool.register(blocks[i], 100L + i, 0L, BlockPool.NULL_BLOCK, 0, new int[] {i, i, i, i}, 0);
        }
        pool.release(blocks[2]);
        pool.release(blocks[0]);
        pool.release(blocks[3]);
        pool.release(blocks[1]);
        // NOTE: a hit on block 0 makes it the most recently used once it is released again.
        pool.touch(blocks[0]);
        pool.release(blocks[0]);
        assertThat(List.of(pool.allocate(), pool.allocate(), pool.allocate(), pool.allocate()))
                .containsExactly(blocks[2], blocks[3], blocks[1], blocks[0]);
        assertThat(pool.evictions()).isEqualTo(4);
    }

    @Test
    void removesFromTheMiddleOfTheQueueInConstantTime() {
        BlockQueue q = new BlockQueue(8);
        for (int b = 1; b < 8; b++) {
            q.pushBack(b);
        }
        q.remove(4);
        q.remove(1);
        q.remove(7);
        List<Integer> order = new ArrayList<>();
        for (int b = q.first(); b != BlockQueue.NONE; b = q.after(b)) {
            order.add(b);
        }
        assertThat(order).containsExactly(2, 3, 5, 6);
        assertThat(q.size()).isEqualTo(4);
        assertThatThrownBy(() -> q.remove(4)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> q.pushBack(5)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void invariantCheckCatchesAWrongRefCount() {
        BlockPool pool = new BlockPool(4, BS);
        int b = pool.allocate();
        int[] refs = new int[4];
        assertThatThrownBy(() -> pool.checkInvariants(refs)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("block " + b + " has ref count 1 but 0 block tables");
        refs[b] = 1;
        pool.checkInvariants(refs);
    }
}
