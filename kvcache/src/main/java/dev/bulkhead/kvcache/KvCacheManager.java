package dev.bulkhead.kvcache;

import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The scheduler's one view of KV memory: a fixed block pool, a block table per sequence and the prefix cache.
 *
 * <p>Lifecycle of a sequence: {@link #findCachedPrefix} then {@link #allocate} when it is (re)admitted,
 * {@link #appendSlots} as it grows, {@link #cacheFullBlocks} after each executed step, {@link #free} on every
 * exit path (finish, abort, error, preemption). Allocation never blocks and never grows the pool: "no room" is
 * {@code false}, with nothing changed, and the caller decides whom to preempt.
 *
 * <p>Not thread-safe: one engine thread owns it.
 */
public final class KvCacheManager {

    private final KvCacheConfig config;
    private final BlockHasher hasher;
    private final BlockPool pool;
    private final Map<String, SequenceBlocks> sequences = new HashMap<>();
    private long queriedTokens;
    private long hitTokens;

    /** A manager with the default hasher. */
    public KvCacheManager(KvCacheConfig config) {
        this(config, BlockHasher.DEFAULT);
    }

    /** A manager with {@code hasher} for the prefix cache (tests inject colliding ones). */
    public KvCacheManager(KvCacheConfig config, BlockHasher hasher) {
        this.config = Objects.requireNonNull(config, "config");
        this.hasher = Objects.requireNonNull(hasher, "hasher");
        this.pool = new BlockPool(config.numBlocks(), config.blockSize());
    }

    /** The pool shape this manager was built with. */
    public KvCacheConfig config() {
        return config;
    }

    /** Token slots per block. */
    public int blockSize() {
        return config.blockSize();
    }

    /** Usable blocks: the most one sequence can ever hold. */
    public int capacity() {
        return pool.capacity();
    }

    /** Blocks needed to hold {@code numTokens} tokens. */
    public int blocksFor(long numTokens) {
        return config.blocksFor(numTokens);
    }

    /**
     * Finds the longest run of cached full blocks at the start of {@code tokenIds[0, numTokens)} under
     * {@code salt}. It never covers the last token, whose logits the caller needs, so a fully cached prompt
     * still recomputes at least one token. Changes nothing.
     */
    public PrefixHit findCachedPrefix(int[] tokenIds, int numTokens, long salt) {
        Objects.checkFromToIndex(0, numTokens, tokenIds.length);
        if (!config.enablePrefixCaching() || numTokens < 2) {
            return PrefixHit.none(salt, numTokens);
        }
        int bs = config.blockSize();
        int maxBlocks = (numTokens - 1) / bs;
        int[] found = new int[maxBlocks];
        long hash = hasher.root(salt);
        int parent = BlockPool.NULL_BLOCK;
        int n = 0;
        while (n < maxBlocks) {
            hash = hasher.hash(hash, tokenIds, n * bs, bs);
            int block = pool.lookup(hash, salt, parent, tokenIds, n * bs);
            if (block == BlockPool.NOT_FOUND) {
                break;
            }
            found[n++] = block;
            parent = block;
        }
        return new PrefixHit(salt, Arrays.copyOf(found, n), n * bs, numTokens);
    }

    /**
     * Opens sequence {@code seqId} with the cached blocks of {@code prefix} and enough fresh blocks to hold
     * {@code numTokens} tokens. Returns {@code false}, changing nothing, when the pool has no room.
     *
     * @throws IllegalArgumentException when the sequence is already open or {@code numTokens} is below the prefix
     */
    public boolean allocate(String seqId, PrefixHit prefix, int numTokens) {
        Objects.requireNonNull(seqId, "seqId");
        if (sequences.containsKey(seqId)) {
            throw new IllegalArgumentException("sequence " + seqId + " already holds blocks");
        }
        if (numTokens < prefix.numTokens()) {
            throw new IllegalArgumentException("numTokens " + numTokens + " is below the cached prefix of "
                    + prefix.numTokens() + " tokens");
        }
        int idleHits = 0;
        for (int i = 0; i < prefix.numBlocks(); i++) {
            int b = prefix.blockAt(i);
            if (!pool.isCached(b)) {
                throw new IllegalStateException("stale PrefixHit: block " + b + " is no longer cached");
            }
            idleHits += pool.refCount(b) == 0 ? 1 : 0;
        }
        int fresh = blocksFor(numTokens) - prefix.numBlocks();
        // NOTE: idle hit blocks leave the evictable queue when touched, so they count against availability.
        if (fresh + idleHits > pool.numAvailable()) {
            return false;
        }
        SequenceBlocks seq = new SequenceBlocks(prefix.salt(), hasher.root(prefix.salt()), blocksFor(numTokens));
        for (int i = 0; i < prefix.numBlocks(); i++) {
            int b = prefix.blockAt(i);
            pool.touch(b);
            seq.add(b);
            seq.chainHash = pool.hashOf(b);
            seq.parent = b;
            seq.parentGeneration = pool.generation(b);
        }
        seq.numHashed = prefix.numBlocks();
        for (int i = 0; i < fresh; i++) {
            seq.add(pool.allocate());
        }
        sequences.put(seqId, seq);
        if (config.enablePrefixCaching()) {
            queriedTokens += prefix.queriedTokens();
            hitTokens += prefix.numTokens();
        }
        return true;
    }

    /**
     * Grows open sequence {@code seqId} to hold {@code numTokens} tokens. Returns {@code false}, changing nothing,
     * when the pool has no room.
     */
    public boolean appendSlots(String seqId, int numTokens) {
        SequenceBlocks seq = open(seqId);
        int fresh = blocksFor(numTokens) - seq.size();
        if (fresh > pool.numAvailable()) {
            return false;
        }
        for (int i = 0; i < fresh; i++) {
            seq.add(pool.allocate());
        }
        return true;
    }

    /**
     * Offers the sequence's blocks that are full and computed ({@code numComputedTokens} of
     * {@code tokenIds}) to the prefix cache. Call after the step that computed them has run.
     */
    public void cacheFullBlocks(String seqId, int[] tokenIds, int numComputedTokens) {
        SequenceBlocks seq = open(seqId);
        if (!config.enablePrefixCaching()) {
            return;
        }
        Objects.checkFromToIndex(0, numComputedTokens, tokenIds.length);
        int bs = config.blockSize();
        int full = Math.min(numComputedTokens / bs, seq.size());
        for (int i = seq.numHashed; i < full; i++) {
            long hash = hasher.hash(seq.chainHash, tokenIds, i * bs, bs);
            int block = seq.get(i);
            int canonical = pool.register(block, hash, seq.salt, seq.parent, seq.parentGeneration, tokenIds, i * bs);
            seq.chainHash = hash;
            seq.parent = canonical;
            seq.parentGeneration = pool.generation(canonical);
        }
        seq.numHashed = Math.max(seq.numHashed, full);
    }

    /**
     * Releases every block of {@code seqId} (last block first, so a prefix outlives its tail in the LRU order).
     * Returns {@code false} when the sequence holds no blocks.
     */
    public boolean free(String seqId) {
        SequenceBlocks seq = sequences.remove(seqId);
        if (seq == null) {
            return false;
        }
        for (int i = seq.size() - 1; i >= 0; i--) {
            pool.release(seq.get(i));
        }
        return true;
    }

    /** Whether {@code seqId} holds blocks. */
    public boolean holds(String seqId) {
        return sequences.containsKey(seqId);
    }

    /** A copy of the block table of open sequence {@code seqId}. */
    public int[] blockTable(String seqId) {
        return open(seqId).toArray();
    }

    /** Blocks free plus evictable: what allocations may take now. */
    public int numAvailableBlocks() {
        return pool.numAvailable();
    }

    /** A snapshot of pool occupancy and prefix-cache counters. */
    public KvCacheStats stats() {
        int idle = pool.numAvailable();
        return new KvCacheStats(pool.capacity(), pool.numFree(), pool.numEvictable(), pool.capacity() - idle,
                queriedTokens, hitTokens, pool.evictions());
    }

    /**
     * Checks free + cached + in use = pool size, that every block sits in exactly one place, that ref counts
     * equal the number of block tables holding each block, that shared blocks are cached and that the prefix
     * index is consistent. Throws {@link IllegalStateException} naming the first broken rule. O(pool size).
     */
    public void checkInvariants() {
        int[] refs = new int[config.numBlocks()];
        for (Map.Entry<String, SequenceBlocks> e : sequences.entrySet()) {
            SequenceBlocks seq = e.getValue();
            BitSet seen = new BitSet();
            for (int i = 0; i < seq.size(); i++) {
                int b = seq.get(i);
                if (b <= BlockPool.NULL_BLOCK || b >= config.numBlocks() || seen.get(b)) {
                    throw new IllegalStateException("KV cache invariant broken: sequence " + e.getKey()
                            + " holds block " + b + " twice or out of range");
                }
                seen.set(b);
                refs[b]++;
            }
        }
        pool.checkInvariants(refs);
    }

    private SequenceBlocks open(String seqId) {
        SequenceBlocks seq = sequences.get(seqId);
        if (seq == null) {
            throw new IllegalArgumentException("sequence " + seqId + " holds no blocks");
        }
        return seq;
    }
}
