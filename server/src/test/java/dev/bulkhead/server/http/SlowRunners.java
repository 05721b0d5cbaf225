package dev.bulkhead.server.http;

import dev.bulkhead.engine.internal.runner.BatchInput;
import dev.bulkhead.engine.internal.runner.ForwardingModelRunner;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;

/** The CPU runner with a floor on step time, so a long stream is still running when a test acts on it. */
final class SlowRunners {

    private SlowRunners() {
    }

    static ModelRunnerFactory withStepMillis(long millis) {
        return (weights, options) -> new ForwardingModelRunner(ModelRunnerFactory.CPU.create(weights, options)) {
            @Override
            public float[] forward(BatchInput batch) {
                try {
                    Thread.sleep(millis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return delegate.forward(batch);
            }
        };
    }
}
