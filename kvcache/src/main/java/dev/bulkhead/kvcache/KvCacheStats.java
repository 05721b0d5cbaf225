package dev.bulkhead.kvcache;

/**
 * A snapshot of the pool. {@code numFree + numCachedIdle + numInUse == capacity} always holds.
 *
 * @param capacity      usable blocks (all but the null block)
 * @param numFree       idle blocks holding nothing worth keeping
 * @param numCachedIdle idle cached blocks, evicted in LRU order when no free block is left
 * @param numInUse      blocks held by at least one sequence
 * @param queriedTokens prompt tokens looked up in the prefix cache by admitted sequences
 * @param hitTokens     of those, tokens served from cached blocks
 * @param evictions     cached blocks evicted to make room
 */
public record KvCacheStats(int capacity, int numFree, int numCachedIdle, int numInUse, long queriedTokens,
                           long hitTokens, long evictions) {

    /** Fraction of queried tokens found in the prefix cache; 0 before any query. */
    public double hitRate() {
        return queriedTokens == 0 ? 0.0 : (double) hitTokens / queriedTokens;
    }

    /** Fraction of the pool held by sequences. */
    public double usage() {
        return (double) numInUse / capacity;
    }
}
