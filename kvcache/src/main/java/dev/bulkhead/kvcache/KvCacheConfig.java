package dev.bulkhead.kvcache;

/**
 * Shape of one model's KV block pool.
 *
 * @param numBlocks           blocks in the pool, including the reserved null block 0 (so at least 2)
 * @param blockSize           token slots per block
 * @param enablePrefixCaching whether full computed blocks are kept and shared between sequences
 */
public record KvCacheConfig(int numBlocks, int blockSize, boolean enablePrefixCaching) {

    public KvCacheConfig {
        if (numBlocks < 2) {
            throw new IllegalArgumentException("numBlocks must be >= 2 (block 0 is the reserved null block), got "
                    + numBlocks);
        }
        if (blockSize < 1) {
            throw new IllegalArgumentException("blockSize must be >= 1, got " + blockSize);
        }
    }

    /** A pool with prefix caching on. */
    public KvCacheConfig(int numBlocks, int blockSize) {
        this(numBlocks, blockSize, true);
    }

    /** Blocks that can hold KV: all but the null block. */
    public int usableBlocks() {
        return numBlocks - 1;
    }

    /** Blocks needed to hold {@code numTokens} tokens. */
    public int blocksFor(long numTokens) {
        return (int) ((numTokens + blockSize - 1) / blockSize);
    }
}
