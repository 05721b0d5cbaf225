package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** /v1/models, /health, /ready, /metrics, and what a client that leaves before its answer leaves behind. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpsEndpointsTest {

    private final ObjectMapper json = new ObjectMapper();
    private ServerFixture fx;

    @BeforeAll
    void start() {
        // NOTE: 5 ms a step keeps a 200-token stream running for a second, so the client leaves mid-stream.
        fx = new ServerFixture(ServerConfig.local(0), SlowRunners.withStepMillis(5));
    }

    @AfterAll
    void stop() {
        fx.close();
    }

    @Test
    void modelsListsTheServedModel() throws Exception {
        HttpResponse<String> r = fx.get("/v1/models");
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode body = json.readTree(r.body());
        assertThat(body.get("object").asText()).isEqualTo("list");
        assertThat(body.get("data").get(0).get("id").asText()).isEqualTo(ServerFixture.MODEL);
        assertThat(body.get("data").get(0).get("object").asText()).isEqualTo("model");
    }

    @Test
    void healthAndReadyReportPerModel() throws Exception {
        assertThat(fx.get("/health").statusCode()).isEqualTo(200);
        HttpResponse<String> r = fx.get("/ready");
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode model = json.readTree(r.body()).get("models").get(ServerFixture.MODEL);
        assertThat(model.get("ready").asBoolean()).isTrue();
        assertThat(model.get("kv_blocks_in_use").asInt()).isZero();
    }

    @Test
    void metricsArePrometheusTextWithEngineAndHttpMeters() throws Exception {
        fx.post("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":\"Hi\",\"max_tokens\":2}");
        HttpResponse<String> r = fx.get("/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v)
                .startsWith("text/plain"));
        assertThat(r.body()).contains("bulkhead_requests_running").contains("bulkhead_http_requests_total");
        // The names the Gateway API Inference Extension's endpoint picker scrapes from vLLM pods.
        assertThat(r.body()).containsPattern("(?m)^vllm:num_requests_waiting\\{model_name=\"stories260K\"} 0\\.0$")
                .contains("vllm:kv_cache_usage_perc{").contains("vllm:num_requests_running{");
    }

    @Test
    void clientLeavingMidStreamAbortsTheRequestAndFreesItsBlocks() throws Exception {
        String body = "{\"model\":\"stories260K\",\"prompt\":\"Once upon a time\",\"max_tokens\":200,"
                + "\"ignore_eos\":true,\"stream\":true}";
        try (Socket s = fx.openPost("/v1/completions", body)) {
            InputStream in = s.getInputStream();
            StringBuilder seen = new StringBuilder();
            while (!seen.toString().contains("data: ")) {
                int b = in.read();
                assertThat(b).isNotNegative();
                seen.append((char) b);
            }
        }
        fx.assertIdleWithin(10_000);
        assertThat(fx.get("/metrics").body()).containsPattern(
                "bulkhead_requests_finished_total\\{[^}]*finish_reason=\"abort\"[^}]*} 1\\.0");
    }
}
