package dev.bulkhead.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The manifests agree with each other and with what issue 18 asks of a pool: the InferencePool selects the model
 * server's pods on the port they listen on, its picker reference names a Service that exists, objectives and HPAs
 * point at what exists, the pickers read the engine type the pods are labelled with, and every model server runs
 * non-root with its models mounted read-only (a GPU per replica in the GPU pool).
 */
class ManifestConsistencyTest {

    private final List<Manifests.Document> docs = Manifests.all();

    private Map<String, JsonNode> byName(String kind) {
        Map<String, JsonNode> found = new HashMap<>();
        docs.stream().filter(d -> d.kind().equals(kind)).forEach(d -> found.put(d.name(), d.node()));
        return found;
    }

    @Test
    void eachInferencePoolSelectsItsModelServersAndNamesAnExistingPicker() {
        Map<String, JsonNode> deployments = byName("Deployment");
        Map<String, JsonNode> services = byName("Service");
        for (JsonNode pool : byName("InferencePool").values()) {
            String name = pool.at("/metadata/name").asText();
            JsonNode server = deployments.get(name);
            assertThat(server).as("a Deployment named like pool %s", name).isNotNull();
            JsonNode podLabels = server.at("/spec/template/metadata/labels");
            pool.at("/spec/selector/matchLabels").properties().forEach(e -> assertThat(
                    podLabels.path(e.getKey()).asText()).as("%s selects %s", name, e.getKey())
                    .isEqualTo(e.getValue().asText()));
            assertThat(pool.at("/spec/targetPorts/0/number").asInt()).isEqualTo(
                    server.at("/spec/template/spec/containers/0/ports/0/containerPort").asInt());
            JsonNode picker = services.get(pool.at("/spec/endpointPickerRef/name").asText());
            assertThat(picker).as("%s's endpoint picker Service", name).isNotNull();
            assertThat(picker.at("/spec/ports").findValuesAsText("port"))
                    .contains(pool.at("/spec/endpointPickerRef/port/number").asText());
            assertThat(deployments).as("the picker's Deployment").containsKey(name + "-epp");
            assertThat(deployments.get(name + "-epp").at("/spec/template/spec/containers/0/args").toString())
                    .contains("--pool-name=" + name);
        }
    }

    @Test
    void objectivesRoutesAndAutoscalersPointAtWhatExists() {
        Map<String, JsonNode> pools = byName("InferencePool");
        byName("InferenceObjective").values().forEach(o -> assertThat(pools).containsKey(
                o.at("/spec/poolRef/name").asText()));
        byName("HTTPRoute").values().forEach(r -> assertThat(pools).containsKey(
                r.at("/spec/rules/0/backendRefs/0/name").asText()));
        Map<String, JsonNode> deployments = byName("Deployment");
        byName("HorizontalPodAutoscaler").values().forEach(h -> assertThat(deployments).containsKey(
                h.at("/spec/scaleTargetRef/name").asText()));
    }

    @Test
    void eachPickerReadsTheEngineTypeItsPodsAreLabelledWith() {
        Map<String, JsonNode> deployments = byName("Deployment");
        for (JsonNode map : byName("ConfigMap").values()) {
            String pool = map.at("/metadata/name").asText().replaceFirst("-epp$", "");
            JsonNode config = ManifestValidationTest.readYaml(map.at("/data/bulkhead-epp.yaml").asText());
            String engine = config.findValue("defaultEngine").asText();
            assertThat(deployments.get(pool).at("/spec/template/metadata/labels/llm-d.ai~1engine-type").asText())
                    .isEqualTo(engine);
        }
    }

    @Test
    void modelServersRunNonRootWithReadOnlyModelsAndTheProbesTheIssueAsks() {
        Map<String, JsonNode> deployments = byName("Deployment");
        for (JsonNode pool : byName("InferencePool").values()) {
            JsonNode pod = deployments.get(pool.at("/metadata/name").asText()).at("/spec/template/spec");
            JsonNode c = pod.at("/containers/0");
            assertThat(pod.at("/securityContext/runAsNonRoot").asBoolean()).isTrue();
            assertThat(c.at("/securityContext/allowPrivilegeEscalation").asBoolean(true)).isFalse();
            assertThat(c.at("/livenessProbe/httpGet/path").asText()).isEqualTo("/health");
            assertThat(c.at("/readinessProbe/httpGet/path").asText()).isEqualTo("/ready");
            assertThat(c.at("/startupProbe/periodSeconds").asInt() * c.at("/startupProbe/failureThreshold").asInt())
                    .as("seconds the startup probe allows for loading the model").isGreaterThanOrEqualTo(300);
            assertThat(c.path("volumeMounts")).anySatisfy(m -> {
                assertThat(m.path("mountPath").asText()).isEqualTo("/models");
                assertThat(m.path("readOnly").asBoolean()).isTrue();
            });
        }
        JsonNode gpu = deployments.get("bulkhead-llama").at("/spec/template/spec/containers/0");
        assertThat(gpu.at("/resources/limits/nvidia.com~1gpu").asText()).isEqualTo("1");
        assertThat(gpu.path("args").toString()).contains("--device=cuda");
    }
}
