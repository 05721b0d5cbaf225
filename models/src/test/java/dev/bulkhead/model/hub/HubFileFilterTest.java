package dev.bulkhead.model.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class HubFileFilterTest {

    @Test
    void defaultKeepsWhatInferenceNeeds() {
        HubFileFilter f = HubFileFilter.ofIncludes(List.of());
        assertThat(f).isEqualTo(HubFileFilter.DEFAULT);
        assertThat(List.of("config.json", "tokenizer.json", "model-00001-of-00002.safetensors",
                "model.safetensors.index.json", "generation_config.json", "special_tokens_map.json",
                "tokenizer_config.json")).allMatch(f::matches);
        assertThat(List.of("pytorch_model.bin", "README.md", "onnx/model.safetensors", "model.gguf")).noneMatch(f::matches);
    }

    @Test
    void includesReplaceTheDefault() {
        HubFileFilter f = HubFileFilter.ofIncludes(List.of("*.gguf", "**/*.json"));
        assertThat(f.matches("model-Q4_K_M.gguf")).isTrue();
        assertThat(f.matches("sub/config.json")).isTrue();
        assertThat(f.matches("model.safetensors")).isFalse();
        assertThatThrownBy(() -> new HubFileFilter(List.of("[a"))).hasMessageContaining("bad include glob '[a'");
    }
}
