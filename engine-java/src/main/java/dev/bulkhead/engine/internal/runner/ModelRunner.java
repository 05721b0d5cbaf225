package dev.bulkhead.engine.internal.runner;

import dev.bulkhead.model.config.ModelConfig;

/**
 * Runs forward passes of one loaded model on one backend and owns everything that lives on it: weights in
 * their runtime form, activation buffers and the paged KV cache.
 */
public interface ModelRunner extends AutoCloseable {

    ModelConfig config();

    /** Tokens per KV block. */
    int blockSize();

    /** KV blocks in this runner's cache. */
    int numBlocks();

    /** The most tokens one {@link #forward} call accepts (activation buffers are sized for it). */
    int maxBatchTokens();

    /**
     * Runs one step: writes K/V of every token into its sequence's blocks and returns the logits of
     * {@code batch.logitIndices()}, {@code vocabSize} floats each, in that order. The returned array is
     * owned by the runner and overwritten by the next call.
     */
    float[] forward(BatchInput batch);

    @Override
    void close();
}
