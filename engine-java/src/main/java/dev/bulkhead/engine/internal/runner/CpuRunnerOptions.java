package dev.bulkhead.engine.internal.runner;

import dev.bulkhead.engine.internal.cpu.CpuGemmSettings;

/**
 * Sizing of a CPU model runner, fixed at load: nothing grows on the request path.
 *
 * @param threads         platform threads the matmuls and attention are split over
 * @param blockSize       tokens per KV block
 * @param numBlocks       KV blocks in the cache (capacity = numBlocks * blockSize tokens over all sequences)
 * @param maxBatchTokens  most tokens in one forward step (prefill chunk size for a single sequence)
 * @param gemm            which code multiplies weights by large batches (the Java kernels by default)
 */
public record CpuRunnerOptions(int threads, int blockSize, int numBlocks, int maxBatchTokens, CpuGemmSettings gemm) {

    public CpuRunnerOptions {
        if (threads < 1 || threads > 1024) {
            throw new IllegalArgumentException("threads must be in [1, 1024], got " + threads);
        }
        if (blockSize < 1 || blockSize > 1024) {
            throw new IllegalArgumentException("blockSize must be in [1, 1024], got " + blockSize);
        }
        if (numBlocks < 1) {
            throw new IllegalArgumentException("numBlocks must be >= 1, got " + numBlocks);
        }
        if (maxBatchTokens < 1 || maxBatchTokens > 65536) {
            throw new IllegalArgumentException("maxBatchTokens must be in [1, 65536], got " + maxBatchTokens);
        }
        if (gemm == null) {
            throw new IllegalArgumentException("gemm must not be null (CpuGemmSettings.JAVA for the Java kernels)");
        }
    }

    /** Options with the GEMM of {@code -Dbulkhead.cpu.gemm} ({@link CpuGemmSettings#fromSystemProperties()}; Java unless set). */
    public CpuRunnerOptions(int threads, int blockSize, int numBlocks, int maxBatchTokens) {
        this(threads, blockSize, numBlocks, maxBatchTokens, CpuGemmSettings.fromSystemProperties());
    }

    /** Enough blocks for {@code contextTokens} tokens of one sequence. */
    public static CpuRunnerOptions forContext(int threads, int contextTokens, int maxBatchTokens) {
        int blockSize = 16;
        return new CpuRunnerOptions(threads, blockSize, (contextTokens + blockSize - 1) / blockSize, maxBatchTokens);
    }
}
