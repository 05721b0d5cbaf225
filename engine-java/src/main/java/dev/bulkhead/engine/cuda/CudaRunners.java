package dev.bulkhead.engine.cuda;

import dev.bulkhead.engine.runner.CpuRunnerOptions;
import dev.bulkhead.engine.runner.ModelRunner;
import dev.bulkhead.engine.runner.ModelRunnerFactory;
import dev.bulkhead.model.arch.ModelWeights;

/** Factories of CUDA model runners, the counterpart of {@link ModelRunnerFactory#CPU}. */
public final class CudaRunners {

    private CudaRunners() {
    }

    /** Runners on device {@code ordinal}: {@code (weights, options) -> new CudaModelRunner(weights, options, ordinal)}. */
    public static ModelRunnerFactory factory(int ordinal) {
        if (ordinal < 0) {
            throw new IllegalArgumentException("device ordinal must be >= 0, got " + ordinal);
        }
        return new ModelRunnerFactory() {
            @Override
            public ModelRunner create(ModelWeights weights, CpuRunnerOptions options) {
                // NOTE: -Dbulkhead.cuda.graphs=false runs decode steps eagerly (to compare, or to rule graphs out).
                boolean graphs = !"false".equalsIgnoreCase(System.getProperty("bulkhead.cuda.graphs", "true"));
                return new CudaModelRunner(weights, options, ordinal,
                        graphs ? CudaModelRunner.DecodeSteps.GRAPHS : CudaModelRunner.DecodeSteps.EAGER);
            }

            @Override
            public int kvBytesPerElement() {
                return 2; // NOTE: the CUDA KV cache is bf16
            }
        };
    }
}
