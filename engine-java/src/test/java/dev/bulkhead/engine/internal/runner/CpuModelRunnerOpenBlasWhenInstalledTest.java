package dev.bulkhead.engine.internal.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.internal.cpu.BlasGemm;
import dev.bulkhead.engine.internal.cpu.CpuGemmSettings;
import dev.bulkhead.engine.internal.cpu.CpuGemmUnavailableException;
import dev.bulkhead.model.arch.DecoderArchitecture;
import dev.bulkhead.model.arch.ModelWeights;
import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.embedded.EmbeddedModel;
import dev.bulkhead.model.hf.HfConfigReader;
import dev.bulkhead.model.safetensors.SafetensorsWeightSource;
import java.nio.file.Path;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A prefill of the embedded stories260K with every product through OpenBLAS against the Java kernels. Needs
 * OpenBLAS on this machine: without it the test is reported as skipped, never as passed.
 */
class CpuModelRunnerOpenBlasWhenInstalledTest {

    @TempDir
    Path tmp;

    @Test
    void openBlasPrefillGivesTheJavaLogitsWithinFloatNoise() throws Exception {
        CpuGemmSettings blas = new CpuGemmSettings(EngineOptions.CpuGemm.OPENBLAS, "", 1, false);
        try (BlasGemm probe = BlasGemm.create(blas)) {
            assertThat(probe).isNotNull();
        } catch (CpuGemmUnavailableException e) {
            assumeTrue(false, "OpenBLAS is not installed, skipped: " + e.getMessage());
        }
        Path dir = EmbeddedModel.extract(tmp);
        ModelConfig config = HfConfigReader.read(dir.resolve("config.json"));
        try (SafetensorsWeightSource source = SafetensorsWeightSource.open(dir)) {
            ModelWeights weights = DecoderArchitecture.of(config.family()).bind(config, source);
            int[] ids = IntStream.range(0, 24).map(i -> 1 + (i * 37) % (config.vocabSize() - 1)).toArray();
            int[] pos = IntStream.range(0, ids.length).toArray();
            BatchInput in = new BatchInput(ids, pos, new int[] {0, ids.length}, new int[][] {{0, 1}}, pos);
            float[] java;
            float[] viaBlas;
            try (CpuModelRunner r = new CpuModelRunner(weights, new CpuRunnerOptions(2, 16, 2, 32, CpuGemmSettings.JAVA))) {
                java = r.forward(in).clone();
            }
            try (CpuModelRunner r = new CpuModelRunner(weights, new CpuRunnerOptions(2, 16, 2, 32, blas))) {
                viaBlas = r.forward(in).clone();
            }
            int vocab = config.vocabSize();
            for (int i = 0; i < ids.length * vocab; i++) {
                assertThat(viaBlas[i]).as("logit %d", i).isCloseTo(java[i], org.assertj.core.data.Offset.offset(1e-3f));
            }
        }
    }
}
