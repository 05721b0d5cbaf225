package dev.bulkhead.engine.internal.runner;

import dev.bulkhead.engine.internal.cpu.WeightMatrices;
import dev.bulkhead.kvcache.KvMemoryLimit;
import dev.bulkhead.model.arch.ModelWeights;
import dev.bulkhead.model.config.ModelConfig;

/**
 * Builds the runner an engine executes on. The default is the CPU backend; tests and fault drills wrap it
 * (a runner that throws, hangs or slows down on chosen steps).
 */
@FunctionalInterface
public interface ModelRunnerFactory {

    /** The CPU backend. */
    ModelRunnerFactory CPU = CpuModelRunner::new;

    ModelRunner create(ModelWeights weights, CpuRunnerOptions options);

    /**
     * Bytes of one K or V element in this backend's cache: the KV budget is turned into blocks with it (4 on
     * the CPU, which keeps f32; 2 on CUDA, which keeps bf16).
     */
    default int kvBytesPerElement() {
        return Float.BYTES;
    }

    /**
     * The most an automatically sized KV pool may take on this backend, measured when an engine starts (after its
     * model loaded, before its runner exists). The CPU backend keeps the pool on the Java heap, so this is
     * {@link HeapKvLimit} of the heap now.
     */
    default KvMemoryLimit autoKvLimit(ModelConfig config) {
        return HeapKvLimit.current().kvLimit(config.kvDim(), config.kvBytesPerToken(kvBytesPerElement()));
    }

    /**
     * Host memory this backend's runner allocates for {@code weights} beside their mapping, which a memory budget
     * must reserve with the mapped bytes: on the CPU, the repacked copy of each Q4_0, Q4_K and
     * Q6_K matrix ({@link WeightMatrices#hostBytes}), off the heap.
     */
    default long hostWeightBytes(ModelWeights weights) {
        return weights.distinctTensors().stream().mapToLong(WeightMatrices::hostBytes).sum();
    }

    /**
     * A factory whose runners are {@code base}'s, passed through {@code decorate} (fault drills, slow steps),
     * with {@code base}'s KV element size, automatic KV limit and host weight bytes: a plain lambda would fall
     * back to the CPU's 4 bytes and halve a CUDA pool, and size a CUDA pool from the Java heap.
     */
    static ModelRunnerFactory decorating(ModelRunnerFactory base, java.util.function.BiFunction<ModelRunner,
            CpuRunnerOptions, ModelRunner> decorate) {
        return new ModelRunnerFactory() {
            @Override
            public ModelRunner create(ModelWeights weights, CpuRunnerOptions options) {
                return decorate.apply(base.create(weights, options), options);
            }

            @Override
            public int kvBytesPerElement() {
                return base.kvBytesPerElement();
            }

            @Override
            public KvMemoryLimit autoKvLimit(ModelConfig config) {
                return base.autoKvLimit(config);
            }

            @Override
            public long hostWeightBytes(ModelWeights weights) {
                return base.hostWeightBytes(weights);
            }
        };
    }
}
