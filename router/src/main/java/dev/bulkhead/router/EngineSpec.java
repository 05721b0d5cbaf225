package dev.bulkhead.router;

import dev.bulkhead.engine.EngineOptions;

/**
 * How one model's engine is sized (see {@link EngineOptions}). Zero (or absent in a config file) means the
 * default named below.
 *
 * @param threads          forward-pass threads, default 1 (several models share the node)
 * @param blockSize        tokens per KV block, default 16
 * @param kvCacheBytes     KV pool bytes, default 16 MiB; counted against the model's memory budget
 * @param maxBatchedTokens tokens per step, default 256
 * @param maxRunning       sequences per step, default 16
 * @param maxModelLen      context length, default 0 = the model's, capped as the engine does
 * @param prefixCaching    reuse KV blocks of shared prefixes
 */
public record EngineSpec(int threads, int blockSize, long kvCacheBytes, int maxBatchedTokens, int maxRunning,
                         int maxModelLen, boolean prefixCaching) {

    public EngineSpec {
        threads = threads == 0 ? 1 : threads;
        blockSize = blockSize == 0 ? 16 : blockSize;
        kvCacheBytes = kvCacheBytes == 0 ? 16L << 20 : kvCacheBytes;
        maxBatchedTokens = maxBatchedTokens == 0 ? 256 : maxBatchedTokens;
        maxRunning = maxRunning == 0 ? 16 : maxRunning;
        toOptions(threads, blockSize, kvCacheBytes, maxBatchedTokens, maxRunning, maxModelLen, prefixCaching);
    }

    /** All defaults, prefix caching on. */
    public static EngineSpec defaults() {
        return new EngineSpec(0, 0, 0, 0, 0, 0, true);
    }

    public EngineSpec withKvCacheBytes(long bytes) {
        return new EngineSpec(threads, blockSize, bytes, maxBatchedTokens, maxRunning, maxModelLen, prefixCaching);
    }

    public EngineSpec withMaxModelLen(int n) {
        return new EngineSpec(threads, blockSize, kvCacheBytes, maxBatchedTokens, maxRunning, n, prefixCaching);
    }

    public EngineSpec withMaxRunning(int n) {
        return new EngineSpec(threads, blockSize, kvCacheBytes, maxBatchedTokens, n, maxModelLen, prefixCaching);
    }

    /** The engine options (validated by {@link EngineOptions}, whose messages name the field and limit). */
    public EngineOptions options() {
        return toOptions(threads, blockSize, kvCacheBytes, maxBatchedTokens, maxRunning, maxModelLen, prefixCaching);
    }

    private static EngineOptions toOptions(int threads, int blockSize, long kv, int batched, int running, int len,
                                           boolean prefix) {
        return new EngineOptions(threads, blockSize, kv, batched, running, len, prefix);
    }
}
