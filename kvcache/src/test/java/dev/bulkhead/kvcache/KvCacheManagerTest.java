package dev.bulkhead.kvcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class KvCacheManagerTest {

    private static final int BS = 4;
    private KvCacheManager kv;

    @AfterEach
    void invariantsHold() {
        if (kv != null) {
            kv.checkInvariants();
        }
    }

    private static int[] tokens(int from, int count) {
        return IntStream.range(from, from + count).toArray();
    }

    /** Opens {@code id} with its cached prefix, marks all tokens computed and caches its full blocks. */
    private PrefixHit run(String id, int[] t, long salt) {
        PrefixHit hit = kv.findCachedPrefix(t, t.length, salt);
        assertThat(kv.allocate(id, hit, t.length)).isTrue();
        kv.cacheFullBlocks(id, t, t.length);
        kv.checkInvariants();
        return hit;
    }

    @Test
    void growsAndFreesABlockTable() {
        kv = new KvCacheManager(new KvCacheConfig(8, BS));
        assertThat(kv.allocate("a", PrefixHit.none(0, 5), 5)).isTrue();
        assertThat(kv.blockTable("a")).containsExactly(1, 2);
        assertThat(kv.appendSlots("a", 8)).isTrue();
        assertThat(kv.blockTable("a")).hasSize(2);
        assertThat(kv.appendSlots("a", 9)).isTrue();
        assertThat(kv.blockTable("a")).containsExactly(1, 2, 3);
        assertThat(kv.stats().numInUse()).isEqualTo(3);
        kv.checkInvariants();
        assertThat(kv.free("a")).isTrue();
        assertThat(kv.free("a")).isFalse();
        assertThat(kv.stats().numFree()).isEqualTo(7);
    }

    @Test
    void noRoomChangesNothing() {
        kv = new KvCacheManager(new KvCacheConfig(4, BS));
        assertThat(kv.allocate("a", PrefixHit.none(0, 8), 8)).isTrue();
        assertThat(kv.allocate("b", PrefixHit.none(0, 8), 8)).isFalse();
        assertThat(kv.holds("b")).isFalse();
        assertThat(kv.appendSlots("a", 13)).isFalse();
        assertThat(kv.blockTable("a")).hasSize(2);
        assertThat(kv.appendSlots("a", 12)).isTrue();
        assertThat(kv.stats().numFree()).isZero();
        assertThatThrownBy(() -> kv.allocate("a", PrefixHit.none(0, 1), 1))
                .hasMessageContaining("sequence a already holds blocks");
        assertThatThrownBy(() -> kv.appendSlots("zz", 1)).hasMessageContaining("sequence zz holds no blocks");
    }

    @Test
    void sharedPrefixIsReusedAndCounted() {
        kv = new KvCacheManager(new KvCacheConfig(16, BS));
        int[] first = tokens(0, 10);   // blocks [0..3] [4..7] + partial
        int[] second = IntStream.concat(IntStream.range(0, 8), IntStream.of(99, 98, 97)).toArray();
        run("a", first, 0);
        PrefixHit hit = kv.findCachedPrefix(second, second.length, 0);
        assertThat(hit.numTokens()).isEqualTo(8);
        int[] tableA = kv.blockTable("a");
        assertThat(hit.blockIds()).containsExactly(tableA[0], tableA[1]);
        assertThat(kv.allocate("b", hit, second.length)).isTrue();
        int[] tableB = kv.blockTable("b");
        assertThat(tableB).hasSize(3).startsWith(tableA[0], tableA[1]);
        assertThat(tableB[2]).isNotEqualTo(tableA[2]);
        KvCacheStats stats = kv.stats();
        assertThat(stats.queriedTokens()).isEqualTo(21);
        assertThat(stats.hitTokens()).isEqualTo(8);
        assertThat(stats.hitRate()).isEqualTo(8.0 / 21);
        assertThat(stats.numInUse()).isEqualTo(4);
    }

    @Test
    void neverCoversTheLastTokenOfTheQuery() {
        kv = new KvCacheManager(new KvCacheConfig(16, BS));
        int[] t = tokens(0, 8);
        run("a", t, 0);
        assertThat(kv.findCachedPrefix(t, 8, 0).numTokens()).isEqualTo(4);
        assertThat(kv.findCachedPrefix(t, 9 - 1, 0).numBlocks()).isEqualTo(1);
        assertThat(kv.findCachedPrefix(tokens(0, 9), 9, 0).numTokens()).isEqualTo(8);
        assertThat(kv.findCachedPrefix(t, 1, 0).numTokens()).isZero();
    }

    @Test
    void idleCachedBlocksSurviveTheirSequenceAndAreHitLater() {
        kv = new KvCacheManager(new KvCacheConfig(16, BS));
        run("a", tokens(0, 12), 0);
        int[] tableA = kv.blockTable("a");
        kv.free("a");
        assertThat(kv.stats().numCachedIdle()).isEqualTo(3);
        PrefixHit hit = run("b", tokens(0, 13), 0);
        assertThat(hit.blockIds()).containsExactly(tableA);
        assertThat(kv.stats().numCachedIdle()).isZero();
    }

    @Test
    void saltIsolatesModelsAndAdapters() {
        kv = new KvCacheManager(new KvCacheConfig(16, BS));
        long base = BlockHasher.salt("model-a");
        long adapter = BlockHasher.salt("model-a+lora-x");
        run("a", tokens(0, 9), base);
        assertThat(kv.findCachedPrefix(tokens(0, 9), 9, adapter).numTokens()).isZero();
        assertThat(kv.findCachedPrefix(tokens(0, 9), 9, base).numTokens()).isEqualTo(8);
    }

    @Test
    void saltIsVerifiedEvenWhenTheHasherIgnoresIt() {
        kv = new KvCacheManager(new KvCacheConfig(16, BS), (parent, t, from, count) -> 1L);
        run("a", tokens(0, 9), 1);
        assertThat(kv.findCachedPrefix(tokens(0, 9), 9, 2).numTokens()).isZero();
        assertThat(kv.findCachedPrefix(tokens(0, 9), 9, 1).numTokens()).isEqualTo(4);
    }

    @Test
    void hashCollisionsNeverReturnWrongBlocks() {
        // Every block hashes to the same value: only the first cached block can be indexed.
        kv = new KvCacheManager(new KvCacheConfig(32, BS), (parent, t, from, count) -> 42L);
        run("a", tokens(0, 13), 0);
        int firstBlockOfA = kv.blockTable("a")[0];
        assertThat(kv.findCachedPrefix(tokens(100, 13), 13, 0).numTokens()).isZero();
        PrefixHit same = kv.findCachedPrefix(tokens(0, 13), 13, 0);
        assertThat(same.blockIds()).containsExactly(firstBlockOfA);
        // Same first block, different second block: the colliding second block must not be returned.
        int[] diverging = tokens(0, 13);
        diverging[5] = 77;
        PrefixHit partial = kv.findCachedPrefix(diverging, 13, 0);
        assertThat(partial.blockIds()).containsExactly(firstBlockOfA);
        run("b", diverging, 0);
        assertThat(kv.findCachedPrefix(diverging, 13, 0).blockIds()).containsExactly(firstBlockOfA);
    }

    @Test
    void collidingChildOfADifferentParentIsNotAHit() {
        // Hash ignores the parent, so the second block of two different prompts collides exactly.
        kv = new KvCacheManager(new KvCacheConfig(32, BS),
                (parent, t, from, count) -> count == 0 ? 0L : BlockHasher.DEFAULT.hash(0L, t, from, count));
        int[] a = {1, 1, 1, 1, 5, 5, 5, 5, 0};
        int[] b = {2, 2, 2, 2, 5, 5, 5, 5, 0};
        run("a", a, 0);
        run("b", b, 0);
        PrefixHit hit = kv.findCachedPrefix(b, b.length, 0);
        assertThat(hit.blockIds()).containsExactly(kv.blockTable("b")[0]);
    }

    @Test
    void evictingAParentInvalidatesItsCachedChildren() {
        kv = new KvCacheManager(new KvCacheConfig(4, BS));
        run("a", tokens(0, 8), 0);  // two full blocks, both cached
        kv.free("a");
        // NOTE: freed tail first, so the second block is the least recent and goes first; take both.
        assertThat(kv.allocate("x", PrefixHit.none(0, 12), 12)).isTrue();
        kv.free("x");
        assertThat(kv.stats().evictions()).isEqualTo(2);
        assertThat(kv.findCachedPrefix(tokens(0, 9), 9, 0).numTokens()).isZero();
    }

    @Test
    void evictsTheTailOfAPrefixBeforeItsHead() {
        kv = new KvCacheManager(new KvCacheConfig(5, BS));
        run("a", tokens(0, 12), 0);
        kv.free("a");
        assertThat(kv.allocate("x", PrefixHit.none(0, 5), 5)).isTrue();  // free block + 1 eviction
        assertThat(kv.findCachedPrefix(tokens(0, 13), 13, 0).numTokens()).isEqualTo(8);
    }

    @Test
    void idleHitBlocksCountAgainstRoom() {
        kv = new KvCacheManager(new KvCacheConfig(4, BS));
        run("a", tokens(0, 8), 0);
        kv.free("a");
        // Pool: 1 free + 2 idle cached blocks; taking both as hits leaves room for exactly one fresh block.
        PrefixHit hit = kv.findCachedPrefix(tokens(0, 12), 12, 0);
        assertThat(hit.numBlocks()).isEqualTo(2);
        assertThat(kv.allocate("b", hit, 13)).isFalse();
        assertThat(kv.allocate("b", hit, 12)).isTrue();
        assertThat(kv.stats().numInUse()).isEqualTo(3);
    }

    @Test
    void duplicateComputedBlocksKeepTheChainReachable() {
        kv = new KvCacheManager(new KvCacheConfig(32, BS));
        int[] shortPrompt = tokens(0, 9);
        int[] longPrompt = tokens(0, 17);
        // Both computed concurrently: neither could hit the other when admitted.
        assertThat(kv.allocate("a", kv.findCachedPrefix(shortPrompt, 9, 0), 9)).isTrue();
        assertThat(kv.allocate("b", kv.findCachedPrefix(longPrompt, 17, 0), 17)).isTrue();
        kv.cacheFullBlocks("a", shortPrompt, 9);
        kv.cacheFullBlocks("b", longPrompt, 17);
        PrefixHit hit = kv.findCachedPrefix(tokens(0, 18), 18, 0);
        int[] a = kv.blockTable("a");
        int[] b = kv.blockTable("b");
        assertThat(hit.blockIds()).containsExactly(a[0], a[1], b[2], b[3]);
    }

    @Test
    void disabledPrefixCachingNeverHits() {
        kv = new KvCacheManager(new KvCacheConfig(16, BS, false));
        run("a", tokens(0, 9), 0);
        kv.free("a");
        assertThat(kv.findCachedPrefix(tokens(0, 9), 9, 0).numTokens()).isZero();
        assertThat(kv.stats().numCachedIdle()).isZero();
        assertThat(kv.stats().queriedTokens()).isZero();
    }

    @Test
    void stalePrefixHitIsRejected() {
        kv = new KvCacheManager(new KvCacheConfig(3, BS));
        run("a", tokens(0, 5), 0);
        kv.free("a");
        PrefixHit hit = kv.findCachedPrefix(tokens(0, 5), 5, 0);
        assertThat(kv.allocate("x", PrefixHit.none(0, 8), 8)).isTrue();
        assertThatThrownBy(() -> kv.allocate("b", hit, 5)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("stale PrefixHit");
    }
}
