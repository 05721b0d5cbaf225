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
        assertThatThrownBy(() -> new HubFileFilter(List.of(" "))).hasMessageContaining("include glob is empty");
    }

    // NOTE: the expectations are Python's fnmatch.fnmatch(path, glob), which huggingface-cli's --include uses.
    @Test
    void globsMatchAsHuggingfaceCliMatchesThem() {
        assertThat(new HubFileFilter(List.of("*.onnx")).matches("onnx/model.onnx")).isTrue();
        assertThat(new HubFileFilter(List.of("*.onnx")).matches("model.onnx.json")).isFalse();
        assertThat(new HubFileFilter(List.of("onnx/")).matches("onnx/sub/model.onnx")).isTrue();
        assertThat(new HubFileFilter(List.of("model-0000?-of-*.safetensors")).matches("model-00002-of-00004.safetensors"))
                .isTrue();
        assertThat(new HubFileFilter(List.of("[!p]*.bin")).matches("pytorch_model.bin")).isFalse();
        assertThat(new HubFileFilter(List.of("[!p]*.bin")).matches("tokenizer.bin")).isTrue();
        assertThat(new HubFileFilter(List.of("[a")).matches("[a")).isTrue(); // an unclosed '[' is literal
        assertThat(new HubFileFilter(List.of("a.b")).matches("aXb")).isFalse(); // '.' is not a wildcard
        assertThat(new HubFileFilter(List.of("Config.json")).matches("config.json")).isFalse();
    }
}
