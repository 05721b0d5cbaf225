package dev.bulkhead.kvcache;

import java.util.Locale;

/**
 * A KV budget sized from need instead of a fixed figure ("auto"): enough blocks for {@code maxRunning} sequences
 * at the full context {@code maxModelLen} (the demand), capped by what memory allows (a {@link KvMemoryLimit}),
 * and never less than one sequence of {@code maxModelLen} tokens. Below that floor the model could never finish a
 * long request, so sizing fails with the need and the limit instead of starting a pool that cannot serve.
 *
 * <p>Sizes are whole blocks counted as {@link MemoryBudget} counts them ({@code ceil(maxModelLen / blockSize)}
 * blocks a sequence, plus the reserved null block), so {@code budgetBytes} always passes {@link MemoryBudget}.
 *
 * @param budgetBytes the chosen budget: a whole number of blocks, at most {@code max(demandBytes, limit.bytes())}
 * @param bound       what decided it: the demand, or the memory limit
 * @param demandBytes the full demand ({@code maxRunning} sequences at the full context, plus the null block);
 *                    {@link Long#MAX_VALUE} when it does not fit in a long
 * @param limit       the memory limit the demand was capped by
 */
public record AutoKvBudget(long budgetBytes, Bound bound, long demandBytes, KvMemoryLimit limit) {

    /** What decided an automatic budget. */
    public enum Bound {
        /** Every running sequence fits at the full context: the pool is exactly that big. */
        DEMAND,
        /** Memory allows less than the demand: the pool is as big as the limit allows. */
        MEMORY
    }

    public AutoKvBudget {
        if (budgetBytes < 1 || demandBytes < 1) {
            throw new IllegalArgumentException("budgetBytes and demandBytes must be >= 1, got " + budgetBytes + ", "
                    + demandBytes);
        }
        if (bound == null || limit == null) {
            throw new IllegalArgumentException("bound and limit must not be null");
        }
    }

    /**
     * Sizes the budget for {@code maxRunning} sequences of {@code maxModelLen} tokens within {@code limit}.
     *
     * @param blockSize       token slots per block
     * @param kvBytesPerToken K and V bytes of one token over all layers
     * @param maxModelLen     the longest sequence (prompt + output)
     * @param maxRunning      the most sequences in one step
     * @param limit           the most memory the pool may take
     * @return the budget, bound by the demand or by the limit
     * @throws IllegalArgumentException when the limit cannot hold one sequence of {@code maxModelLen} tokens; the
     *                                  message names kvCacheBytes ({@code --kv-cache-mb}), the need and the limit
     */
    public static AutoKvBudget size(int blockSize, long kvBytesPerToken, int maxModelLen, int maxRunning,
                                    KvMemoryLimit limit) {
        if (blockSize < 1 || kvBytesPerToken < 1 || maxModelLen < 1 || maxRunning < 1) {
            throw new IllegalArgumentException("blockSize, kvBytesPerToken, maxModelLen and maxRunning must be >= 1, "
                    + "got " + blockSize + ", " + kvBytesPerToken + ", " + maxModelLen + ", " + maxRunning);
        }
        long blockBytes = Math.multiplyExact(blockSize, kvBytesPerToken);
        long blocksPerSequence = (maxModelLen + (long) blockSize - 1) / blockSize;
        long floorBlocks = blocksPerSequence + 1; // NOTE: + the reserved null block, as MemoryBudget counts
        long demandBlocks = saturatedProduct(maxRunning, blocksPerSequence) + 1;
        long demandBytes = saturatedProduct(demandBlocks, blockBytes);
        // NOTE: MemoryBudget refuses more than Integer.MAX_VALUE blocks; no real memory limit gets near that.
        long limitBlocks = Math.min(limit.bytes() / blockBytes, Integer.MAX_VALUE);
        if (limitBlocks < floorBlocks) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "cannot size the KV pool automatically: "
                    + "one sequence of maxModelLen %d tokens needs %d bytes (%s: %d blocks of %d tokens at %d bytes "
                    + "per token, with the reserved null block), but the limit for the KV pool is %d bytes (%s: %s); "
                    + "set kvCacheBytes (--kv-cache-mb) yourself, lower maxModelLen (--context), or raise that limit",
                    maxModelLen, floorBlocks * blockBytes, mib(floorBlocks * blockBytes), floorBlocks, blockSize,
                    kvBytesPerToken, limit.bytes(), mib(limit.bytes()), limit.source()));
        }
        return demandBlocks <= limitBlocks
                ? new AutoKvBudget(demandBlocks * blockBytes, Bound.DEMAND, demandBytes, limit)
                : new AutoKvBudget(limitBlocks * blockBytes, Bound.MEMORY, demandBytes, limit);
    }

    /** {@code bytes} in MiB with one decimal, for messages and logs. */
    public static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
    }

    private static long saturatedProduct(long a, long b) {
        long high = Math.multiplyHigh(a, b);
        long low = a * b;
        return high == 0 && low >= 0 ? low : Long.MAX_VALUE;
    }
}
