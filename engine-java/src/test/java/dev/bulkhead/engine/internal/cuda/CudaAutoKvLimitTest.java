package dev.bulkhead.engine.internal.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.kvcache.KvMemoryLimit;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.model.ModelLoader;
import org.junit.jupiter.api.Test;

/** On the CUDA backend an automatic KV pool is capped at the old fixed 256 MiB, never at the Java heap. */
class CudaAutoKvLimitTest {

    @Test
    void theCudaCapIsTheOldFixedDefaultAndSurvivesDecoration() {
        try (LoadedModel model = ModelLoader.load(null)) {
            // NOTE: making the factory touches no CUDA; only create() does.
            ModelRunnerFactory cuda = CudaRunners.factory(0, CudaModelRunner.DecodeSteps.EAGER, true);
            KvMemoryLimit limit = cuda.autoKvLimit(model.config());
            assertThat(limit.bytes()).isEqualTo(256L << 20).isEqualTo(CudaRunners.AUTO_KV_LIMIT_BYTES);
            assertThat(limit.source()).contains("CUDA").contains("not measured");
            assertThat(ModelRunnerFactory.decorating(cuda, (r, o) -> r).autoKvLimit(model.config()))
                    .isEqualTo(limit);
        }
    }
}
