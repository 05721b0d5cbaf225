package dev.bulkhead.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** The validation of {@link ManifestValidationTest} can fail: a misspelled field, a wrong type or a missing
 * required field in a real manifest is reported, with its path. */
class StrictnessTest {

    private static String file(String relative) throws IOException {
        return Files.readString(Manifests.KUBERNETES.resolve(relative));
    }

    /** The document of a multi-document file that contains the marker, edited. */
    private static Manifests.Document edited(String relative, String marker, String from, String to)
            throws IOException {
        for (String doc : file(relative).split("(?m)^---$")) {
            if (doc.contains(marker)) {
                assertThat(doc).contains(from);
                return Manifests.parse(doc.replace(from, to));
            }
        }
        throw new AssertionError(marker + " not in " + relative);
    }

    @Test
    void theUneditedDocumentsPass() throws IOException {
        assertThat(ManifestValidationTest.problems(edited("story/model-server.yaml", "kind: Deployment",
                "replicas: 2", "replicas: 2"))).isEmpty();
        assertThat(ManifestValidationTest.problems(edited("story/gateway.yaml", "kind: InferencePool",
                "targetPorts:", "targetPorts:"))).isEmpty();
    }

    @Test
    void aMisspelledDeploymentFieldIsRejected() throws IOException {
        assertThat(ManifestValidationTest.problems(edited("story/model-server.yaml", "kind: Deployment",
                "replicas: 2", "replica: 2"))).singleElement().asString()
                .contains("spec: unknown field \"replica\"");
    }

    @Test
    void aMisspelledProbeFieldDeepInThePodIsRejected() throws IOException {
        assertThat(ManifestValidationTest.problems(edited("story/model-server.yaml", "kind: Deployment",
                "path: /ready", "pth: /ready"))).singleElement().asString()
                .contains("spec.template.spec.containers[0].readinessProbe.httpGet: unknown field \"pth\"");
    }

    @Test
    void aValueOfTheWrongTypeIsRejected() throws IOException {
        assertThat(ManifestValidationTest.problems(edited("story/model-server.yaml", "kind: Deployment",
                "replicas: 2", "replicas: two"))).isNotEmpty();
    }

    @Test
    void aMisspelledInferencePoolFieldIsRejectedByTheCrdSchema() throws IOException {
        assertThat(ManifestValidationTest.problems(edited("story/gateway.yaml", "kind: InferencePool",
                "failureMode: FailOpen", "failMode: FailOpen"))).anySatisfy(p -> assertThat(p).contains("failMode"));
    }

    @Test
    void aValueOutsideTheCrdsEnumIsRejected() throws IOException {
        assertThat(ManifestValidationTest.problems(edited("story/gateway.yaml", "kind: InferencePool",
                "failureMode: FailOpen", "failureMode: FailSoft"))).anySatisfy(p -> assertThat(p).contains(
                "failureMode"));
    }

    @Test
    void anInferencePoolWithoutItsRequiredSelectorIsRejected() throws IOException {
        assertThat(ManifestValidationTest.problems(edited("story/gateway.yaml", "kind: InferencePool",
                "  selector:\n    matchLabels:\n      bulkhead.dev/pool: story\n", ""))).anySatisfy(
                p -> assertThat(p).contains("selector"));
    }

    @Test
    void aMisspelledObjectiveFieldIsRejected() throws IOException {
        assertThat(ManifestValidationTest.problems(edited("story/gateway.yaml", "name: story-batch",
                "priority: -10", "priorty: -10"))).anySatisfy(p -> assertThat(p).contains("priorty"));
    }

    @Test
    void aMisspelledMetricSpecInThePickerConfigIsRejected() throws IOException {
        assertThat(ManifestValidationTest.problems(edited("story/epp.yaml", "kind: ConfigMap",
                "queuedRequestsSpec:", "queuedRequestSpec:"))).anySatisfy(
                p -> assertThat(p).startsWith("data.bulkhead-epp.yaml: ").contains("queuedRequestSpec"));
    }

    @Test
    void aKindNobodyDefinesIsRejected() throws IOException {
        assertThat(ManifestValidationTest.problems(edited("story/gateway.yaml", "kind: InferencePool",
                "kind: InferencePool", "kind: InferencePools"))).anySatisfy(
                p -> assertThat(p).contains("unknown kind"));
    }
}
