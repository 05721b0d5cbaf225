package dev.bulkhead.model.hf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.model.ModelFormatException;
import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.config.ModelFamily;
import dev.bulkhead.model.config.RopeScaling;
import dev.bulkhead.model.config.RopeStyle;
import dev.bulkhead.model.embedded.EmbeddedModel;
import dev.bulkhead.model.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfConfigReaderTest {

    @TempDir
    Path tmp;

    private ModelConfig read(String json) throws IOException {
        Path p = tmp.resolve("config.json");
        Files.writeString(p, json);
        return HfConfigReader.read(p);
    }

    @Test
    void stories260K() {
        ModelConfig c = HfConfigReader.read(EmbeddedModel.extract(tmp).resolve("config.json"));
        assertThat(c.family()).isEqualTo(ModelFamily.LLAMA);
        assertThat(c.hiddenSize()).isEqualTo(64);
        assertThat(c.intermediateSize()).isEqualTo(172);
        assertThat(c.numLayers()).isEqualTo(5);
        assertThat(c.numHeads()).isEqualTo(8);
        assertThat(c.numKvHeads()).isEqualTo(4);
        assertThat(c.headDim()).isEqualTo(8);
        assertThat(c.vocabSize()).isEqualTo(512);
        assertThat(c.tieWordEmbeddings()).isTrue();
        assertThat(c.ropeStyle()).isEqualTo(RopeStyle.NEOX);
        assertThat(c.bosTokenId()).isEqualTo(1);
        assertThat(c.eosTokenIds()).containsExactly(2);
        assertThat(c.rmsNormEps()).isEqualTo(1e-5f);
    }

    @Test
    void llama31WithRopeScalingAndEosList() throws IOException {
        ModelConfig c = read("""
                {"model_type":"llama","hidden_size":4096,"intermediate_size":14336,"num_hidden_layers":32,
                 "num_attention_heads":32,"num_key_value_heads":8,"vocab_size":128256,"max_position_embeddings":131072,
                 "rms_norm_eps":1e-5,"rope_theta":500000.0,"tie_word_embeddings":false,"torch_dtype":"bfloat16",
                 "rope_scaling":{"factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,
                   "original_max_position_embeddings":8192,"rope_type":"llama3"},
                 "bos_token_id":128000,"eos_token_id":[128001,128008,128009]}""");
        assertThat(c.headDim()).isEqualTo(128);
        assertThat(c.ropeScaling().type()).isEqualTo(RopeScaling.Type.LLAMA3);
        assertThat(c.ropeScaling().factor()).isEqualTo(8.0);
        assertThat(c.eosTokenIds()).containsExactly(128001, 128008, 128009);
        assertThat(c.dtype()).isEqualTo(DType.BF16);
        assertThat(c.tieWordEmbeddings()).isFalse();
    }

    @Test
    void qwenFamilies() throws IOException {
        ModelConfig q2 = read("""
                {"model_type":"qwen2","hidden_size":896,"intermediate_size":4864,"num_hidden_layers":24,
                 "num_attention_heads":14,"num_key_value_heads":2,"vocab_size":151936,"max_position_embeddings":32768,
                 "sliding_window":32768,"use_sliding_window":false,"tie_word_embeddings":true,"eos_token_id":151643}""");
        assertThat(q2.attentionBias()).isTrue();
        assertThat(q2.qkNorm()).isFalse();
        assertThat(q2.slidingWindow()).isZero();
        ModelConfig q3 = read("""
                {"model_type":"qwen3","hidden_size":1024,"intermediate_size":3072,"num_hidden_layers":28,
                 "num_attention_heads":16,"num_key_value_heads":8,"head_dim":128,"vocab_size":151936,
                 "max_position_embeddings":40960,"attention_bias":false,"eos_token_id":151645}""");
        assertThat(q3.qkNorm()).isTrue();
        assertThat(q3.headDim()).isEqualTo(128);
        assertThat(q3.qDim()).isEqualTo(2048);
        ModelConfig mistral = read("""
                {"model_type":"mistral","hidden_size":4096,"intermediate_size":14336,"num_hidden_layers":32,
                 "num_attention_heads":32,"num_key_value_heads":8,"vocab_size":32000,"sliding_window":4096}""");
        assertThat(mistral.slidingWindow()).isEqualTo(4096);
    }

    @Test
    void unknownArchitectureNamesTheSupportedOnes() {
        assertThatThrownBy(() -> read("{\"model_type\":\"gpt_neox\",\"hidden_size\":8}"))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("config.json").hasMessageContaining("unknown architecture 'gpt_neox'")
                .hasMessageContaining("llama, mistral, qwen2, qwen3");
    }

    @Test
    void missingAndInvalidFields() {
        assertThatThrownBy(() -> read("{\"model_type\":\"llama\",\"hidden_size\":64}"))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("missing or non-integer field num_attention_heads");
        assertThatThrownBy(() -> read("""
                {"model_type":"llama","hidden_size":64,"intermediate_size":8,"num_hidden_layers":1,
                 "num_attention_heads":6,"num_key_value_heads":4,"vocab_size":10}"""))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("multiple of num_key_value_heads");
        assertThatThrownBy(() -> read("not json")).isInstanceOf(ModelFormatException.class).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> HfConfigReader.read(tmp.resolve("missing/config.json")))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("not found");
    }
}
