package dev.bulkhead.engine.internal.cuda;

import dev.bulkhead.engine.internal.runner.CpuRunnerOptions;
import dev.bulkhead.engine.internal.runner.ModelRunner;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.kvcache.KvMemoryLimit;
import dev.bulkhead.model.arch.ModelWeights;
import dev.bulkhead.model.config.ModelConfig;

/** Factories of CUDA model runners, the counterpart of {@link ModelRunnerFactory#CPU}. */
public final class CudaRunners {

    /**
     * The most an automatically sized KV pool takes on the CUDA backend: the fixed 256 MiB that was every
     * backend's default before the CPU backend sized its pool from the heap.
     */
    public static final long AUTO_KV_LIMIT_BYTES = 256L << 20;

    private CudaRunners() {
    }

    /**
     * Runners on device {@code ordinal}: {@code (weights, options) -> new CudaModelRunner(weights, options, ordinal)},
     * with decode graphs unless {@code -Dbulkhead.cuda.graphs=false} and device sampling unless
     * {@code -Dbulkhead.cuda.sampling=host}.
     */
    public static ModelRunnerFactory factory(int ordinal) {
        // NOTE: read when the factory is made: graphs=false rules graphs out (or compares); sampling=host brings
        // every logits row back and samples it on the host.
        boolean graphs = !"false".equalsIgnoreCase(System.getProperty("bulkhead.cuda.graphs", "true"));
        boolean deviceSampling = !"host".equalsIgnoreCase(System.getProperty("bulkhead.cuda.sampling", "device"));
        return factory(ordinal, graphs ? CudaModelRunner.DecodeSteps.GRAPHS : CudaModelRunner.DecodeSteps.EAGER,
                deviceSampling);
    }

    /** Runners on device {@code ordinal} that run decode steps as {@code decodeSteps} says and sample as asked. */
    public static ModelRunnerFactory factory(int ordinal, CudaModelRunner.DecodeSteps decodeSteps,
                                             boolean deviceSampling) {
        if (ordinal < 0) {
            throw new IllegalArgumentException("device ordinal must be >= 0, got " + ordinal);
        }
        return new ModelRunnerFactory() {
            @Override
            public ModelRunner create(ModelWeights weights, CpuRunnerOptions options) {
                return new CudaModelRunner(weights, options, ordinal, decodeSteps, deviceSampling);
            }

            @Override
            public int kvBytesPerElement() {
                return 2; // NOTE: the CUDA KV cache is bf16
            }

            @Override
            public KvMemoryLimit autoKvLimit(ModelConfig config) {
                // NOTE: not the device's free memory: the engine sizes the pool before the runner exists, and the
                // runner then opens the context, uploads the weights and allocates its step buffers and cuBLAS
                // workspace, so free memory measured here would count memory those take a moment later, and
                // estimating them from outside the runner would be a second, drifting copy of its allocations.
                // Until the runner sizes its own pool after loading (as vLLM does), auto keeps the old fixed size.
                return new KvMemoryLimit(AUTO_KV_LIMIT_BYTES, "the CUDA backend's fixed automatic size (device "
                        + "memory is not measured)");
            }

            @Override
            public long hostWeightBytes(ModelWeights weights) {
                return 0; // NOTE: the weights go to the device through one staging buffer; no host copy stays
            }
        };
    }
}
