package dev.bulkhead.model.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.config.ModelFamily;
import dev.bulkhead.model.config.RopeStyle;
import dev.bulkhead.model.safetensors.SafetensorsWeightSource;
import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.Dequantizer;
import dev.bulkhead.model.tensor.WeightTensor;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The real stories260K GGUF (llama.cpp's CI model), checked against its Hugging Face safetensors twin. */
class Stories260kGgufTest {

    private static Path gguf;
    private static Path hfDir;

    @BeforeAll
    static void locate() {
        Path shared = Path.of(System.getProperty("bulkhead.shared.dir", "../shared"));
        gguf = shared.resolve("models/stories260K-gguf/stories260K.gguf");
        hfDir = shared.resolve("models/stories260K-hf");
        Assumptions.assumeTrue(Files.exists(gguf), "stories260K.gguf not found under " + shared);
    }

    @Test
    void configComesFromMetadata() {
        try (GgufFile file = GgufFile.open(gguf)) {
            ModelConfig c = GgufModelConfig.from(file);
            assertThat(c.family()).isEqualTo(ModelFamily.LLAMA);
            assertThat(c.hiddenSize()).isEqualTo(64);
            assertThat(c.intermediateSize()).isEqualTo(172);
            assertThat(c.numLayers()).isEqualTo(5);
            assertThat(c.numHeads()).isEqualTo(8);
            assertThat(c.numKvHeads()).isEqualTo(4);
            assertThat(c.headDim()).isEqualTo(8);
            assertThat(c.vocabSize()).isEqualTo(512);
            assertThat(c.ropeStyle()).isEqualTo(RopeStyle.INTERLEAVED);
            assertThat(c.rmsNormEps()).isEqualTo(1e-5f);
            assertThat(c.ropeTheta()).isEqualTo(10000.0);
            assertThat(c.bosTokenId()).isEqualTo(1);
            assertThat(c.eosTokenIds()).containsExactly(2);
            assertThat(c.dtype()).isEqualTo(DType.F32);
            assertThat(c.tieWordEmbeddings()).isFalse();
            assertThat(c.attentionBias()).isFalse();
            assertThat(c.qkNorm()).isFalse();
            assertThat(file.version()).isEqualTo(3);
            assertThat(file.tensorInfos()).hasSize(48);
        }
    }

    @Test
    void tensorsAreServedUnderHuggingFaceNamesWithRowMajorShapes() {
        Assumptions.assumeTrue(Files.exists(hfDir.resolve("model.safetensors")), "stories260K-hf missing");
        try (GgufWeightSource g = GgufWeightSource.open(gguf);
             SafetensorsWeightSource hf = SafetensorsWeightSource.open(hfDir)) {
            assertThat(g.names()).contains("model.embed_tokens.weight", "model.norm.weight", "lm_head.weight",
                    "model.layers.4.self_attn.q_proj.weight", "model.layers.0.mlp.down_proj.weight",
                    "model.layers.2.post_attention_layernorm.weight", "model.layers.3.input_layernorm.weight");
            assertThat(g.names()).noneMatch(n -> n.startsWith("blk.") || n.startsWith("token_embd"));
            for (String name : hf.names()) {
                WeightTensor expected = hf.get(name);
                WeightTensor actual = g.get(name);
                assertThat(actual.shape()).as(name).containsExactly(expected.shape());
                assertThat(actual.name()).isEqualTo(name);
                if (!name.contains("q_proj") && !name.contains("k_proj")) {
                    assertThat(floats(actual)).as(name).containsExactly(floats(expected));
                }
            }
            assertThat(g.get("model.layers.1.self_attn.k_proj.weight").shape()).containsExactly(32, 64);
            assertThat(g.get("model.layers.1.mlp.gate_proj.weight").shape()).containsExactly(172, 64);
        }
    }

    /**
     * GGUF keeps llama2.c's q/k row order (RoPE on adjacent pairs); the HF checkpoint was permuted to
     * rotate-half order. Row {@code 2j+p} of a GGUF head is row {@code p*headDim/2 + j} of the HF head.
     */
    @Test
    void qAndKKeepTheInterleavedRowOrder() {
        Assumptions.assumeTrue(Files.exists(hfDir.resolve("model.safetensors")), "stories260K-hf missing");
        int headDim = 8;
        try (GgufWeightSource g = GgufWeightSource.open(gguf);
             SafetensorsWeightSource hf = SafetensorsWeightSource.open(hfDir)) {
            for (String proj : new String[] {"q_proj", "k_proj"}) {
                String name = "model.layers.2.self_attn." + proj + ".weight";
                float[] interleaved = floats(g.get(name));
                float[] half = floats(hf.get(name));
                int cols = g.get(name).cols();
                int rows = g.get(name).rows();
                for (int r = 0; r < rows; r++) {
                    int head = r / headDim;
                    int within = r % headDim;
                    int hfRow = head * headDim + (within % 2) * (headDim / 2) + within / 2;
                    for (int c = 0; c < cols; c++) {
                        assertThat(interleaved[r * cols + c]).isEqualTo(half[hfRow * cols + c]);
                    }
                }
                assertThat(interleaved).isNotEqualTo(half);
            }
        }
    }

    private static float[] floats(WeightTensor t) {
        float[] out = new float[Math.toIntExact(t.elementCount())];
        Dequantizer.dequantize(t.dtype(), t.data(), 0, out, 0, out.length);
        return out;
    }
}
