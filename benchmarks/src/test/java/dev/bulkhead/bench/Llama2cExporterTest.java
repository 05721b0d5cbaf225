package dev.bulkhead.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.model.llama2c.Llama2cCheckpoint;
import dev.bulkhead.model.safetensors.SafetensorsWeightSource;
import dev.bulkhead.model.synth.ModelShapes;
import dev.bulkhead.model.synth.RandomCheckpointGenerator;
import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.Dequantizer;
import dev.bulkhead.model.tensor.WeightTensor;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Llama2cExporterTest {

    @TempDir
    Path tmp;

    private static float[] floats(WeightTensor t) {
        float[] out = new float[Math.toIntExact(t.elementCount())];
        Dequantizer.dequantize(t.dtype(), t.data(), 0, out, 0, out.length);
        return out;
    }

    @Test
    void exportedFileReadsBackAsTheSameTensors() {
        Path hf = tmp.resolve("hf");
        RandomCheckpointGenerator.generate(ModelShapes.get("tiny-llama"), DType.BF16, 7, hf, null);
        Path bin = tmp.resolve("model.bin");
        Llama2cExporter.export(hf, bin);
        try (SafetensorsWeightSource original = SafetensorsWeightSource.open(hf);
             Llama2cCheckpoint exported = Llama2cCheckpoint.open(bin)) {
            assertThat(exported.config().hiddenSize()).isEqualTo(64);
            assertThat(exported.config().numKvHeads()).isEqualTo(2);
            assertThat(exported.config().tieWordEmbeddings()).isTrue();
            assertThat(exported.names()).containsExactlyInAnyOrderElementsOf(original.names());
            for (String name : original.names()) {
                WeightTensor e = exported.get(name);
                assertThat(e.dtype()).as(name).isEqualTo(DType.F32);
                assertThat(floats(e)).as(name).containsExactly(floats(original.get(name)));
            }
        }
    }

    @Test
    void rejectsModelsRunCCannotExpress() {
        Path hf = tmp.resolve("qwen2");
        RandomCheckpointGenerator.generate(ModelShapes.get("tiny-qwen2"), DType.F32, 7, hf, null);
        assertThatThrownBy(() -> Llama2cExporter.export(hf, tmp.resolve("q.bin")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("biases");
    }
}
