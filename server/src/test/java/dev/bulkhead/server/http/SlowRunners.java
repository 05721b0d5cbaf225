package dev.bulkhead.server.http;

import dev.bulkhead.engine.runner.BatchInput;
import dev.bulkhead.engine.runner.ModelRunner;
import dev.bulkhead.engine.runner.ModelRunnerFactory;
import dev.bulkhead.model.config.ModelConfig;

/** The CPU runner with a floor on step time, so a long stream is still running when a test acts on it. */
final class SlowRunners {

    private SlowRunners() {
    }

    static ModelRunnerFactory withStepMillis(long millis) {
        return (weights, options) -> new ModelRunner() {
            private final ModelRunner delegate = ModelRunnerFactory.CPU.create(weights, options);

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
            public float[] forward(BatchInput batch) {
                try {
                    Thread.sleep(millis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return delegate.forward(batch);
            }

            @Override
            public void close() {
                delegate.close();
            }
        };
    }
}
