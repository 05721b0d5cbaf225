package dev.bulkhead.model.synth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.config.ModelFamily;
import dev.bulkhead.model.config.RopeScaling;
import dev.bulkhead.model.safetensors.SafetensorsWriter.TensorSpec;
import dev.bulkhead.model.tensor.DType;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ModelShapesTest {

    @Test
    void listsEveryPreset() {
        assertThat(ModelShapes.names()).containsExactly("llama-3.2-1b", "llama-3.1-8b", "stories110m", "stories15m",
                "qwen3-0.6b", "qwen2-0.5b", "mistral-7b", "tiny-llama", "tiny-llama3", "tiny-qwen2", "tiny-qwen3",
                "tiny-mistral");
        assertThat(ModelShapes.find("nope")).isEmpty();
        assertThatThrownBy(() -> ModelShapes.get("nope")).hasMessageContaining("nope").hasMessageContaining("tiny-llama");
    }

    @Test
    void parameterCountsMatchThePublishedModels() {
        // totals reported on each model's Hugging Face page (safetensors metadata), independent of this code
        assertThat(ModelShapes.get("llama-3.2-1b").parameterCount()).isEqualTo(1_235_814_400L);
        assertThat(ModelShapes.get("llama-3.1-8b").parameterCount()).isEqualTo(8_030_261_248L);
        assertThat(ModelShapes.get("mistral-7b").parameterCount()).isEqualTo(7_241_732_096L);
        assertThat(ModelShapes.get("qwen2-0.5b").parameterCount()).isEqualTo(494_032_768L);
        assertThat(ModelShapes.get("qwen3-0.6b").parameterCount()).isEqualTo(596_049_920L);
        // Llama-3.2-1B's single model.safetensors holds 2,471,628,800 bytes of bf16 tensors
        assertThat(ModelShapes.get("llama-3.2-1b").byteSize(DType.BF16)).isEqualTo(2_471_628_800L);
    }

    @Test
    void llama32OneBHasItsPublishedConfig() {
        ModelConfig c = ModelShapes.get("llama-3.2-1b").config();
        assertThat(c.family()).isEqualTo(ModelFamily.LLAMA);
        assertThat(new int[] {c.hiddenSize(), c.intermediateSize(), c.numLayers(), c.numHeads(), c.numKvHeads(),
                c.headDim(), c.vocabSize(), c.maxPositionEmbeddings()})
                .containsExactly(2048, 8192, 16, 32, 8, 64, 128256, 131072);
        assertThat(c.tieWordEmbeddings()).isTrue();
        assertThat(c.ropeTheta()).isEqualTo(500000.0);
        assertThat(c.ropeScaling()).isEqualTo(RopeScaling.llama3(32, 1, 4, 8192));
        assertThat(c.rmsNormEps()).isEqualTo(1e-5f);
        assertThat(c.bosTokenId()).isEqualTo(128000);
        assertThat(c.eosTokenIds()).containsExactly(128001, 128008, 128009);
        assertThat(ModelShapes.get("llama-3.1-8b").config().ropeScaling()).isEqualTo(RopeScaling.llama3(8, 1, 4, 8192));
        assertThat(ModelShapes.get("llama-3.1-8b").config().tieWordEmbeddings()).isFalse();
        assertThat(ModelShapes.get("stories15m").config().tieWordEmbeddings()).isTrue();
    }

    private static Map<String, TensorSpec> byName(String shape) {
        return ModelShapes.get(shape).tensors(DType.BF16).stream()
                .collect(Collectors.toMap(TensorSpec::name, Function.identity()));
    }

    @Test
    void tensorListsFollowTheFamily() {
        Map<String, TensorSpec> llama = byName("tiny-llama");
        assertThat(llama).hasSize(1 + 2 * 9 + 1).doesNotContainKey("lm_head.weight");
        assertThat(llama.get("model.layers.1.self_attn.q_proj.weight").shape()).containsExactly(64, 64);
        assertThat(llama.get("model.layers.1.self_attn.k_proj.weight").shape()).containsExactly(32, 64);
        assertThat(llama.get("model.layers.1.self_attn.o_proj.weight").shape()).containsExactly(64, 64);
        assertThat(llama.get("model.layers.1.mlp.gate_proj.weight").shape()).containsExactly(160, 64);
        assertThat(llama.get("model.layers.1.mlp.down_proj.weight").shape()).containsExactly(64, 160);
        assertThat(llama.get("model.embed_tokens.weight").shape()).containsExactly(512, 64);

        assertThat(byName("tiny-llama3").get("lm_head.weight").shape()).containsExactly(512, 64);
        assertThat(byName("tiny-mistral")).containsKey("lm_head.weight");

        Map<String, TensorSpec> qwen2 = byName("tiny-qwen2");
        assertThat(qwen2.get("model.layers.0.self_attn.q_proj.bias").shape()).containsExactly(64);
        assertThat(qwen2.get("model.layers.0.self_attn.k_proj.bias").shape()).containsExactly(32);
        assertThat(qwen2.get("model.layers.0.self_attn.v_proj.bias").shape()).containsExactly(32);
        assertThat(qwen2).doesNotContainKey("model.layers.0.self_attn.o_proj.bias");

        Map<String, TensorSpec> qwen3 = byName("tiny-qwen3");
        assertThat(qwen3.get("model.layers.0.self_attn.q_proj.weight").shape()).containsExactly(128, 64);
        assertThat(qwen3.get("model.layers.0.self_attn.k_proj.weight").shape()).containsExactly(64, 64);
        assertThat(qwen3.get("model.layers.0.self_attn.o_proj.weight").shape()).containsExactly(64, 128);
        assertThat(qwen3.get("model.layers.0.self_attn.q_norm.weight").shape()).containsExactly(32);
        assertThat(qwen3.get("model.layers.0.self_attn.k_norm.weight").shape()).containsExactly(32);
        assertThat(qwen3).doesNotContainKey("model.layers.0.self_attn.q_proj.bias");
    }

    @Test
    void everyPresetIsConsistent() {
        for (ModelShape s : ModelShapes.all()) {
            List<TensorSpec> tensors = s.tensors(DType.F16);
            assertThat(tensors).extracting(TensorSpec::dtype).containsOnly(DType.F16);
            assertThat(s.byteSize(DType.F32)).isEqualTo(2 * s.byteSize(DType.F16));
            assertThat(s.config(DType.F16).dtype()).isEqualTo(DType.F16);
            assertThat(s.config().qkNorm()).isEqualTo(s.config().family() == ModelFamily.QWEN3);
            assertThat(s.config().attentionBias()).isEqualTo(s.config().family() == ModelFamily.QWEN2);
        }
    }
}
