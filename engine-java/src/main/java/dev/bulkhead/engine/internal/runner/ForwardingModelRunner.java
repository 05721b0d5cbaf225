package dev.bulkhead.engine.internal.runner;

import dev.bulkhead.model.config.ModelConfig;

/**
 * A runner that hands everything to another one; subclasses override {@link #forward} to add behaviour
 * around a step (fault drills, pacing, tracing) without repeating the delegation.
 */
public abstract class ForwardingModelRunner implements ModelRunner {

    protected final ModelRunner delegate;

    protected ForwardingModelRunner(ModelRunner delegate) {
        this.delegate = delegate;
    }

    @Override
    public float[] forward(BatchInput batch) {
        return delegate.forward(batch);
    }

    @Override
    public ModelConfig config() {
        return delegate.config();
    }

    @Override
    public int blockSize() {
        return delegate.blockSize();
    }

    @Override
    public int numBlocks() {
        return delegate.numBlocks();
    }

    @Override
    public int maxBatchTokens() {
        return delegate.maxBatchTokens();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
