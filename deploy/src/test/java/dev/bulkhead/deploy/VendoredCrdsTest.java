package dev.bulkhead.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The vendored CRDs are the files SOURCE.md names, unedited, and the versions the manifests use. */
class VendoredCrdsTest {

    @Test
    void eachFileHasTheHashSourceMdRecords() throws Exception {
        String source = Files.readString(Manifests.CRDS.resolve("SOURCE.md"));
        Matcher m = Pattern.compile("(?m)^([0-9a-f]{64})  (\\S+\\.yaml)$").matcher(source);
        int checked = 0;
        while (m.find()) {
            byte[] bytes = Files.readAllBytes(Manifests.CRDS.resolve(m.group(2)));
            String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
            assertThat(hash).as(m.group(2)).isEqualTo(m.group(1));
            checked++;
        }
        assertThat(checked).isEqualTo(Manifests.yamlFiles(Manifests.CRDS).size());
    }

    @Test
    void theCrdsServeTheVersionsTheManifestsUse() {
        assertThat(served("inference.networking.k8s.io_inferencepools.yaml")).isEqualTo(
                "inference.networking.k8s.io/v1 InferencePool");
        assertThat(served("llm-d.ai_inferenceobjectives.yaml")).isEqualTo("llm-d.ai/v1alpha2 InferenceObjective");
    }

    private static String served(String file) {
        JsonNode spec = Manifests.read(Manifests.CRDS.resolve(file)).getFirst().node().path("spec");
        JsonNode version = spec.path("versions").get(0);
        assertThat(version.path("served").asBoolean()).isTrue();
        return spec.path("group").asText() + "/" + version.path("name").asText() + " "
                + spec.path("names").path("kind").asText();
    }
}
