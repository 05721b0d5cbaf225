package dev.bulkhead.engine.cuda;

import dev.bulkhead.engine.runner.ModelRunnerFactory;

/** Factories of CUDA model runners, the counterpart of {@link ModelRunnerFactory#CPU}. */
public final class CudaRunners {

    private CudaRunners() {
    }

    /** Runners on device {@code ordinal}: {@code (weights, options) -> new CudaModelRunner(weights, options, ordinal)}. */
    public static ModelRunnerFactory factory(int ordinal) {
        if (ordinal < 0) {
            throw new IllegalArgumentException("device ordinal must be >= 0, got " + ordinal);
        }
        return (weights, options) -> new CudaModelRunner(weights, options, ordinal);
    }
}
