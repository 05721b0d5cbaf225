package dev.bulkhead.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every document under deploy/kubernetes/ parses strictly: built-in kinds against fabric8's Kubernetes API model
 * (8.0.0) with no unknown field, custom resources against the vendored CRDs' schemas, and the endpoint pickers'
 * configs (inside their ConfigMaps) against the EndpointPickerConfig schema.
 */
class ManifestValidationTest {

    private static final CustomResourceSchemas CRDS = CustomResourceSchemas.vendored();

    static Stream<Manifests.Document> documents() {
        return Manifests.all().stream();
    }

    @Test
    void theManifestsHoldEveryKindThePoolsNeed() {
        Map<String, Long> kinds = Manifests.all().stream().collect(java.util.stream.Collectors.groupingBy(
                Manifests.Document::kind, java.util.stream.Collectors.counting()));
        assertThat(kinds).containsKeys("Deployment", "Service", "HorizontalPodAutoscaler", "InferencePool",
                "InferenceObjective", "HTTPRoute", "ConfigMap", "ServiceAccount", "Role", "RoleBinding");
        // Two pools, each with a model-server Deployment and an endpoint-picker Deployment.
        assertThat(kinds.get("InferencePool")).isEqualTo(2);
        assertThat(kinds.get("Deployment")).isEqualTo(4);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("documents")
    void parsesStrictly(Manifests.Document doc) {
        assertThat(problems(doc)).as(doc.toString()).isEmpty();
    }

    @Test
    void everyManifestFileIsInAKustomization() throws IOException {
        List<Path> listed = new ArrayList<>();
        for (Path k : Manifests.yamlFiles(Manifests.KUBERNETES)) {
            if (k.getFileName().toString().equals("kustomization.yaml")) {
                JsonNode node = Manifests.YAML.readTree(k.toFile());
                assertThat(node.path("apiVersion").asText()).isEqualTo("kustomize.config.k8s.io/v1beta1");
                assertThat(fieldNames(node)).as(k.toString()).containsOnly("apiVersion", "kind", "resources");
                for (JsonNode r : node.path("resources")) {
                    Path target = k.getParent().resolve(r.asText()).normalize();
                    assertThat(target).as("%s lists %s", k, r.asText()).exists();
                    listed.add(Files.isDirectory(target) ? target.resolve("kustomization.yaml") : target);
                }
            }
        }
        for (Manifests.Document doc : Manifests.all()) {
            assertThat(listed).as("a kustomization lists " + doc.file()).contains(doc.file().normalize());
        }
    }

    /** Every problem found in one document, as the tests above and {@link StrictnessTest} report them. */
    static List<String> problems(Manifests.Document doc) {
        List<String> problems = new ArrayList<>();
        StrictKubernetesParser.Result parsed = StrictKubernetesParser.parse(doc);
        problems.addAll(parsed.problems());
        if (parsed.isCustomResource()) {
            if (CRDS.defines(doc.node())) {
                problems.addAll(CRDS.validate(doc.node()));
            } else {
                problems.add("unknown kind: neither the Kubernetes model nor a vendored CRD defines "
                        + doc.node().path("apiVersion").asText() + " " + doc.kind());
            }
        }
        if (doc.kind().equals("ConfigMap")) {
            doc.node().path("data").properties().forEach(e -> {
                JsonNode config = readYaml(e.getValue().asText());
                if (config.path("kind").asText().equals("EndpointPickerConfig")) {
                    CustomResourceSchemas.validateEndpointPickerConfig(config)
                            .forEach(p -> problems.add("data." + e.getKey() + ": " + p));
                }
            });
        }
        return problems;
    }

    static JsonNode readYaml(String text) {
        try {
            return Manifests.YAML.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
