package dev.bulkhead.kvcache;

/**
 * A model's KV memory budget, turned into a fixed pool size at load: {@code numBlocks = budgetBytes /
 * (blockSize * kvBytesPerToken)}. Construction fails with the numbers when the pool could not hold one
 * sequence of {@code maxModelLen} tokens, since such a model could never finish a long request.
 *
 * @param budgetBytes     bytes reserved for K and V of all layers
 * @param blockSize       token slots per block
 * @param kvBytesPerToken K and V bytes of one token over all layers (see {@link #kvBytesPerToken})
 * @param maxModelLen     the longest sequence (prompt + output) the model serves
 */
public record MemoryBudget(long budgetBytes, int blockSize, long kvBytesPerToken, int maxModelLen) {

    public MemoryBudget {
        if (budgetBytes < 1) {
            throw new IllegalArgumentException("budgetBytes must be >= 1, got " + budgetBytes);
        }
        if (blockSize < 1) {
            throw new IllegalArgumentException("blockSize must be >= 1, got " + blockSize);
        }
        if (kvBytesPerToken < 1) {
            throw new IllegalArgumentException("kvBytesPerToken must be >= 1, got " + kvBytesPerToken);
        }
        if (maxModelLen < 1) {
            throw new IllegalArgumentException("maxModelLen must be >= 1, got " + maxModelLen);
        }
        long blockBytes = Math.multiplyExact(blockSize, kvBytesPerToken);
        long blocks = budgetBytes / blockBytes;
        if (blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("budgetBytes " + budgetBytes + " gives " + blocks + " blocks of "
                    + blockBytes + " bytes, more than " + Integer.MAX_VALUE + "; use a larger blockSize");
        }
        long needed = 1 + (maxModelLen + (long) blockSize - 1) / blockSize; // NOTE: + the reserved null block
        if (blocks < needed) {
            throw new IllegalArgumentException("KV budget of " + budgetBytes + " bytes holds " + blocks
                    + " blocks of " + blockSize + " tokens at " + kvBytesPerToken + " bytes per token, but one "
                    + "sequence of maxModelLen " + maxModelLen + " tokens needs " + needed
                    + " blocks (including the reserved null block): raise the budget to at least "
                    + Math.multiplyExact(needed, blockBytes) + " bytes or lower maxModelLen");
        }
    }

    /** K and V bytes per token: {@code 2 * numLayers * numKvHeads * headDim * bytesPerElement}. */
    public static long kvBytesPerToken(int numLayers, int numKvHeads, int headDim, int bytesPerElement) {
        if (numLayers < 1 || numKvHeads < 1 || headDim < 1 || bytesPerElement < 1) {
            throw new IllegalArgumentException("numLayers, numKvHeads, headDim and bytesPerElement must be >= 1, got "
                    + numLayers + ", " + numKvHeads + ", " + headDim + ", " + bytesPerElement);
        }
        return 2L * numLayers * numKvHeads * headDim * bytesPerElement;
    }

    /** Blocks in the pool, including the reserved null block. */
    public int numBlocks() {
        return (int) (budgetBytes / ((long) blockSize * kvBytesPerToken));
    }

    /** Bytes the pool actually uses (at most {@code budgetBytes}). */
    public long poolBytes() {
        return (long) numBlocks() * blockSize * kvBytesPerToken;
    }

    /** The pool config for this budget. */
    public KvCacheConfig toConfig(boolean enablePrefixCaching) {
        return new KvCacheConfig(numBlocks(), blockSize, enablePrefixCaching);
    }
}
