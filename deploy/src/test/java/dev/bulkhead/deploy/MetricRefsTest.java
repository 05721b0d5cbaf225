package dev.bulkhead.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The check behind {@link ContainerRuntimeTest#everyMetricTheManifestsReadIsExported} can fail, and reads the
 * manifests' references as the picker and the HPA do. */
class MetricRefsTest {

    private static final String METRICS = """
            # HELP vllm:num_requests_waiting
            # TYPE vllm:num_requests_waiting gauge
            vllm:num_requests_waiting{model_name="story"} 0.0
            vllm:kv_cache_usage_perc{model_name="story"} 0.25
            bulkhead_requests_running{model="story"} 1.0
            """;

    @Test
    void readsThePickersSpecsAndTheHpasPodMetrics() {
        List<MetricRefs.Ref> refs = MetricRefs.inManifests();
        assertThat(refs).anySatisfy(r -> {
            assertThat(r.where()).startsWith("story/epp.yaml").endsWith("queuedRequestsSpec");
            assertThat(r.name()).isEqualTo("vllm:num_requests_waiting");
            assertThat(r.labels()).isEqualTo(Map.of("model_name", "story"));
        });
        assertThat(refs).anySatisfy(r -> {
            assertThat(r.where()).startsWith("llama-gpu/model-server.yaml").contains("HorizontalPodAutoscaler");
            assertThat(r.name()).isEqualTo("vllm:num_requests_waiting");
            assertThat(r.labels()).isEqualTo(Map.of("model_name", "llama-3.1-8b"));
        });
    }

    @Test
    void findsWhatIsThere() {
        assertThat(MetricRefs.missing(List.of(MetricRefs.spec("story/x", "vllm:num_requests_waiting{model_name=story}"),
                MetricRefs.spec("story/x", "vllm:kv_cache_usage_perc")), METRICS, "story/")).isEmpty();
    }

    @Test
    void reportsAMetricNotExported() {
        assertThat(MetricRefs.missing(List.of(MetricRefs.spec("story/x", "vllm:num_requests_running")), METRICS,
                "story/")).singleElement().asString().contains("vllm:num_requests_running")
                .contains("does not export");
    }

    @Test
    void reportsALabelTheSeriesLack() {
        assertThat(MetricRefs.missing(List.of(MetricRefs.spec("llama/x", "vllm:num_requests_waiting{model=llama}")),
                METRICS, "story/")).singleElement().asString().contains("[model]");
    }

    @Test
    void reportsASelectorOfTheServedPoolThatMatchesNoSeries() {
        assertThat(MetricRefs.missing(List.of(MetricRefs.spec("story/x",
                "vllm:num_requests_waiting{model_name=\"storyy\"}")), METRICS, "story/"))
                .singleElement().asString().contains("no sample");
    }
}
