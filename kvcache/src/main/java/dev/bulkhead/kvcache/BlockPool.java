package dev.bulkhead.kvcache;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Owns every block's reference count and the prefix index. A block is in exactly one of three places: in use
 * (ref count &gt; 0), the free queue (ref 0, holds nothing worth keeping) or the evictable queue (ref 0, a cached
 * full block, least recently released first). Allocation takes free blocks first and evicts cached ones only
 * when no free block is left. Block 0 is the null block: never queued, never handed out.
 *
 * <p>A cached block records its chain hash, salt, token ids and the identity of its parent (block id plus that
 * block's generation, bumped on every allocation), so a lookup verifies a candidate's whole prefix by induction
 * and a hash collision can only miss.
 */
final class BlockPool {

    static final int NULL_BLOCK = 0;
    static final int NOT_FOUND = -1;

    private final int numBlocks;
    private final int blockSize;
    private final int[] refCount;
    private final BlockQueue free;
    private final BlockQueue evictable;
    private final Map<Long, Integer> index = new HashMap<>();
    private final boolean[] cached;
    private final long[] hashes;
    private final long[] salts;
    private final int[] parents;
    private final int[] parentGenerations;
    private final int[] generations;
    private final int[] tokens; // (numBlocks, blockSize): token ids of cached blocks
    private long evictions;

    BlockPool(int numBlocks, int blockSize) {
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.refCount = new int[numBlocks];
        this.free = new BlockQueue(numBlocks);
        this.evictable = new BlockQueue(numBlocks);
        this.cached = new boolean[numBlocks];
        this.hashes = new long[numBlocks];
        this.salts = new long[numBlocks];
        this.parents = new int[numBlocks];
        this.parentGenerations = new int[numBlocks];
        this.generations = new int[numBlocks];
        this.tokens = new int[Math.multiplyExact(numBlocks, blockSize)];
        for (int b = 1; b < numBlocks; b++) {
            free.pushBack(b);
        }
    }

    int capacity() {
        return numBlocks - 1;
    }

    int numFree() {
        return free.size();
    }

    int numEvictable() {
        return evictable.size();
    }

    /** Blocks an allocation may take now: free plus evictable. */
    int numAvailable() {
        return free.size() + evictable.size();
    }

    long evictions() {
        return evictions;
    }

    int refCount(int block) {
        return refCount[block];
    }

    boolean isCached(int block) {
        return cached[block];
    }

    long hashOf(int block) {
        return hashes[block];
    }

    int generation(int block) {
        return generations[block];
    }

    /** Takes one block (free first, else evicts the least recently released cached one) with ref count 1. */
    int allocate() {
        int block = free.popFront();
        if (block == BlockQueue.NONE) {
            block = evictable.popFront();
            if (block == BlockQueue.NONE) {
                throw new IllegalStateException("no KV block available: callers must check numAvailable() first");
            }
            uncache(block);
            evictions++;
        }
        // NOTE: a new generation invalidates every cached child that named the old content as its parent.
        generations[block]++;
        refCount[block] = 1;
        return block;
    }

    /** Adds a reference to a cached block found by {@link #lookup}, taking it off the evictable queue if idle. */
    void touch(int block) {
        if (!cached[block]) {
            throw new IllegalStateException("block " + block + " is not cached");
        }
        if (refCount[block] == 0) {
            evictable.remove(block);
        }
        refCount[block]++;
    }

    /** Drops one reference; at zero the block goes to the back of the evictable queue if cached, else free. */
    void release(int block) {
        if (block == NULL_BLOCK || refCount[block] <= 0) {
            throw new IllegalStateException("block " + block + " released with ref count " + refCount[block]);
        }
        if (--refCount[block] == 0) {
            (cached[block] ? evictable : free).pushBack(block);
        }
    }

    /**
     * The cached block with chain hash {@code hash} whose salt, parent identity and token ids equal the given
     * ones, or {@link #NOT_FOUND}. {@code parent} is a cached block (or the null block for a first block).
     */
    int lookup(long hash, long salt, int parent, int[] tokenIds, int from) {
        Integer candidate = index.get(hash);
        if (candidate == null) {
            return NOT_FOUND;
        }
        int b = candidate;
        return sameContent(b, salt, parent, generations[parent], tokenIds, from) ? b : NOT_FOUND;
    }

    /**
     * Offers full, computed block {@code block} to the prefix cache. Returns the block that now stands for this
     * content: {@code block} itself when it was cached or when its hash collides with different content (it then
     * stays uncached), or an already cached block holding the same content.
     */
    int register(int block, long hash, long salt, int parent, int parentGeneration, int[] tokenIds, int from) {
        Integer existing = index.get(hash);
        if (existing != null) {
            int e = existing;
            return sameContent(e, salt, parent, parentGeneration, tokenIds, from) ? e : block;
        }
        index.put(hash, block);
        cached[block] = true;
        hashes[block] = hash;
        salts[block] = salt;
        parents[block] = parent;
        parentGenerations[block] = parentGeneration;
        System.arraycopy(tokenIds, from, tokens, block * blockSize, blockSize);
        return block;
    }

    private boolean sameContent(int b, long salt, int parent, int parentGeneration, int[] tokenIds, int from) {
        int start = b * blockSize;
        return cached[b] && salts[b] == salt && parents[b] == parent && parentGenerations[b] == parentGeneration
                && Arrays.equals(tokens, start, start + blockSize, tokenIds, from, from + blockSize);
    }

    private void uncache(int block) {
        Integer mapped = index.get(hashes[block]);
        if (mapped != null && mapped == block) {
            index.remove(hashes[block]);
        }
        cached[block] = false;
    }

    /**
     * Checks the pool against {@code expectedRefs} (block id → number of block tables holding it) and throws
     * {@link IllegalStateException} naming the first broken rule.
     */
    void checkInvariants(int[] expectedRefs) {
        boolean[] queued = new boolean[numBlocks];
        int freeCount = walk(free, queued, false, "free");
        int evictableCount = walk(evictable, queued, true, "evictable");
        int inUse = 0;
        for (int b = 0; b < numBlocks; b++) {
            if (refCount[b] != expectedRefs[b]) {
                fail("block " + b + " has ref count " + refCount[b] + " but " + expectedRefs[b] + " block tables");
            }
            if (b == NULL_BLOCK) {
                if (refCount[b] != 0 || queued[b] || cached[b]) {
                    fail("null block 0 must never be used, queued or cached");
                }
                continue;
            }
            if (refCount[b] > 0) {
                inUse++;
                if (queued[b]) {
                    fail("block " + b + " is in use and queued");
                }
                if (refCount[b] > 1 && !cached[b]) {
                    fail("block " + b + " is shared by " + refCount[b] + " tables but not cached");
                }
            } else if (!queued[b]) {
                fail("block " + b + " is idle but in neither queue (leaked)");
            }
            if (cached[b]) {
                Integer mapped = index.get(hashes[b]);
                if (mapped == null || mapped != b) {
                    fail("cached block " + b + " is missing from the prefix index");
                }
            }
        }
        if (freeCount + evictableCount + inUse != capacity()) {
            fail("free " + freeCount + " + cached " + evictableCount + " + in use " + inUse + " != pool size "
                    + capacity());
        }
        for (Map.Entry<Long, Integer> e : index.entrySet()) {
            int b = e.getValue();
            if (!cached[b] || hashes[b] != e.getKey()) {
                fail("prefix index maps hash " + e.getKey() + " to block " + b + " which does not hold it");
            }
        }
    }

    private int walk(BlockQueue queue, boolean[] queued, boolean mustBeCached, String name) {
        int count = 0;
        for (int b = queue.first(); b != BlockQueue.NONE; b = queue.after(b)) {
            if (b == NULL_BLOCK || queued[b]) {
                fail("block " + b + " is queued twice or is the null block (" + name + " queue)");
            }
            if (refCount[b] != 0 || cached[b] != mustBeCached) {
                fail("block " + b + " in the " + name + " queue has ref count " + refCount[b] + ", cached "
                        + cached[b]);
            }
            queued[b] = true;
            count++;
        }
        if (count != queue.size()) {
            fail(name + " queue walks " + count + " blocks but counts " + queue.size());
        }
        return count;
    }

    private static void fail(String message) {
        throw new IllegalStateException("KV cache invariant broken: " + message);
    }
}
