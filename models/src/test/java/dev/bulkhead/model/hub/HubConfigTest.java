package dev.bulkhead.model.hub;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubConfigTest {

    @TempDir
    Path home;

    @Test
    void readsEndpointAndTokenFromTheEnvironment() {
        HubConfig c = HubConfig.fromEnvironment(Map.of("HF_ENDPOINT", "http://mirror:8080/", "HF_TOKEN", "hf_abc"), home);
        assertThat(c.endpoint()).isEqualTo(URI.create("http://mirror:8080"));
        assertThat(c.token()).isEqualTo("hf_abc");
        assertThat(c.toString()).doesNotContain("hf_abc").contains("<redacted>");
    }

    @Test
    void fallsBackToTheHuggingFaceTokenFile() throws Exception {
        Path file = home.resolve(".cache/huggingface/token");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "hf_fromfile\n");

        HubConfig c = HubConfig.fromEnvironment(Map.of(), home);
        assertThat(c.endpoint()).isEqualTo(HubConfig.DEFAULT_ENDPOINT);
        assertThat(c.token()).isEqualTo("hf_fromfile");
        assertThat(HubConfig.fromEnvironment(Map.of("HF_HOME", home.resolve("none").toString()), home).hasToken()).isFalse();
    }
}
