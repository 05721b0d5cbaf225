package dev.bulkhead.kvcache;

import java.util.Arrays;

/**
 * The longest cached prefix found for a new sequence by {@link KvCacheManager#findCachedPrefix}; pass it
 * unchanged to {@link KvCacheManager#allocate} right away (before any other call that allocates).
 *
 * @param salt          the model/adapter salt the lookup used; the new sequence keeps it
 * @param blockIds      cached blocks holding the prefix, in order
 * @param numTokens     tokens those blocks hold: {@code blockIds.length * blockSize}
 * @param queriedTokens tokens the lookup was asked about (the denominator of the hit rate)
 */
public record PrefixHit(long salt, int[] blockIds, int numTokens, int queriedTokens) {

    public PrefixHit {
        blockIds = blockIds.clone();
        if (numTokens < 0 || queriedTokens < 0 || numTokens > queriedTokens) {
            throw new IllegalArgumentException("numTokens must be in [0, queriedTokens], got " + numTokens + " of "
                    + queriedTokens);
        }
    }

    /** No cached prefix: the sequence starts from scratch. */
    public static PrefixHit none(long salt, int queriedTokens) {
        return new PrefixHit(salt, new int[0], 0, queriedTokens);
    }

    /** A copy of the cached block ids. */
    @Override
    public int[] blockIds() {
        return blockIds.clone();
    }

    /** Number of cached blocks. */
    public int numBlocks() {
        return blockIds.length;
    }

    int blockAt(int i) {
        return blockIds[i];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PrefixHit h && salt == h.salt && numTokens == h.numTokens
                && queriedTokens == h.queriedTokens && Arrays.equals(blockIds, h.blockIds);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(salt) * 31 + Arrays.hashCode(blockIds) * 17 + numTokens;
    }

    @Override
    public String toString() {
        return "PrefixHit[salt=" + salt + ", blockIds=" + Arrays.toString(blockIds) + ", numTokens=" + numTokens
                + ", queriedTokens=" + queriedTokens + "]";
    }
}
