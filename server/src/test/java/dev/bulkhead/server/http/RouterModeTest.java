package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.router.Fault;
import dev.bulkhead.router.Router;
import dev.bulkhead.router.RouterConfigLoader;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve --config}: a router config with two models (the embedded stories260K under two names) and an alias
 * {@code chat} routed to {@code a} with {@code b} as fallback, served over HTTP: aliases listed, answers marked
 * with who served them, a fallback's answer marked degraded, and readiness per model.
 */
class RouterModeTest {

    private static final String CONFIG = """
            models:
              - name: a
                engine: {kvCacheBytes: 1048576, maxModelLen: 128, maxRunning: 16}
                health: {livenessTimeoutMillis: 1000, readinessIntervalMillis: 100, readinessTimeoutMillis: 500}
              - name: b
                engine: {kvCacheBytes: 1048576, maxModelLen: 128, maxRunning: 16}
                health: {livenessTimeoutMillis: 1000, readinessIntervalMillis: 100, readinessTimeoutMillis: 500}
            routing:
              version: 1
              routes:
                chat: {targets: [{model: a, weight: 1}], fallbacks: [b]}
            watchdog: {tickMillis: 25, maxRestarts: 3, backoffBaseMillis: 100, backoffMaxMillis: 1000,
                       deadRetryMillis: 2000, reloadMillis: 100}
            faults: {enabled: true, slowStepMillis: 30}
            """;
    private static final String REQUEST = """
            {"model":"chat","prompt":"Once upon a time","max_tokens":6,"temperature":0,"ignore_eos":true
            """;

    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    /** A router started from the YAML config, as {@code bulkhead serve --config} does, behind a server. */
    private record Served(Router router, BulkheadServer server) implements AutoCloseable {

        @Override
        public void close() {
            server.stop();
        }
    }

    private Served serve() throws Exception {
        Path file = Files.writeString(dir.resolve("router.yaml"), CONFIG);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Router router = Router.start(RouterConfigLoader.load(file), ModelRunnerFactory.CPU, registry);
        return new Served(router, BulkheadServer.start(ServerConfig.local(0), new RouterBackend(router), registry));
    }

    private HttpResponse<String> get(Served s, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(s, path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(Served s, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(s, "/v1/completions")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static URI uri(Served s, String path) {
        return URI.create("http://127.0.0.1:" + s.server().port() + path);
    }

    @Test
    void servesAliasesAndMarksAFallbacksAnswerDegraded() throws Exception {
        try (Served s = serve()) {
            List<String> ids = new ArrayList<>();
            json.readTree(get(s, "/v1/models").body()).get("data").forEach(m -> ids.add(m.get("id").asText()));
            assertThat(ids).containsExactlyInAnyOrder("chat", "a", "b");

            HttpResponse<String> ready = get(s, "/ready");
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
            JsonNode models = json.readTree(ready.body()).get("models");
            assertThat(models.get("a").get("ready").asBoolean()).isTrue();
            assertThat(models.get("b").get("ready").asBoolean()).isTrue();

            HttpResponse<String> primary = post(s, REQUEST + "}");
            assertThat(primary.statusCode()).as(primary.body()).isEqualTo(200);
            assertThat(primary.headers().firstValue(CompletionHandler.SERVED_BY)).hasValue("a");
            assertThat(primary.headers().firstValue(CompletionHandler.DEGRADED)).isEmpty();
            assertThat(json.readTree(primary.body()).has("bulkhead")).isFalse();
            assertThat(json.readTree(primary.body()).get("model").asText()).isEqualTo("chat");

            s.router().faults().inject("a", Fault.STEP_EXCEPTION);
            HttpResponse<String> fallback = post(s, REQUEST + "}");
            assertThat(fallback.statusCode()).as(fallback.body()).isEqualTo(200);
            assertThat(fallback.headers().firstValue(CompletionHandler.SERVED_BY)).hasValue("b");
            assertThat(fallback.headers().firstValue(CompletionHandler.DEGRADED)).hasValue("true");
            JsonNode ext = json.readTree(fallback.body()).get("bulkhead");
            assertThat(ext.get("served_by").asText()).isEqualTo("b");
            assertThat(ext.get("degraded").asBoolean()).isTrue();
            assertThat(json.readTree(fallback.body()).get("model").asText()).as("the alias asked for").isEqualTo("chat");
            assertThat(json.readTree(fallback.body()).get("usage").get("completion_tokens").asInt()).isEqualTo(6);

            HttpResponse<String> streamed = post(s, REQUEST + ",\"stream\":true}");
            assertThat(streamed.statusCode()).as(streamed.body()).isEqualTo(200);
            assertThat(streamed.headers().firstValue(CompletionHandler.SERVED_BY)).hasValue("b");
            assertThat(streamed.headers().firstValue(CompletionHandler.DEGRADED)).hasValue("true");
            assertThat(streamed.body()).contains("\"text_completion\"").contains("data: [DONE]");
        }
    }

    @Test
    void anAliasAnswersWithLogprobsNamedByItsModelsTokenizer() throws Exception {
        try (Served s = serve()) {
            assertThat(s.router().model("chat")).hasValueSatisfying(m -> assertThat(m.tokenizer()).isNotNull());
            assertThat(s.router().model("b")).isPresent();
            assertThat(s.router().model("nope")).isEmpty();
            HttpResponse<String> r = post(s, REQUEST.strip() + ",\"logprobs\":2}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            JsonNode lp = json.readTree(r.body()).at("/choices/0/logprobs");
            assertThat(lp.get("tokens")).hasSize(6);
            assertThat(lp.get("token_logprobs")).hasSize(6).allSatisfy(v -> assertThat(v.asDouble()).isNotPositive());
            assertThat(lp.get("top_logprobs").get(0).size()).isBetween(1, 3);
            StringBuilder joined = new StringBuilder();
            lp.get("tokens").forEach(t -> joined.append(t.asText()));
            assertThat(joined.toString()).isEqualTo(json.readTree(r.body()).at("/choices/0/text").asText());
        }
    }

    @Test
    void aStreamedChatArrivesTokenByToken() throws Exception {
        try (Served s = serve()) {
            String body = """
                    {"model":"chat","messages":[{"role":"user","content":"Once upon a time"}],"max_tokens":6,
                     "temperature":0,"ignore_eos":true,"stream":true}
                    """;
            HttpResponse<String> streamed = http.send(HttpRequest.newBuilder(uri(s, "/v1/chat/completions"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(streamed.statusCode()).as(streamed.body()).isEqualTo(200);
            assertThat(streamed.headers().firstValue(CompletionHandler.SERVED_BY)).hasValue("a");
            assertThat(streamed.headers().firstValue(CompletionHandler.DEGRADED)).isEmpty();
            int contentChunks = 0;
            for (String line : streamed.body().split("\n")) {
                if (line.startsWith("data: {")) {
                    JsonNode delta = json.readTree(line.substring("data: ".length())).get("choices").get(0).get("delta");
                    if (delta != null && delta.hasNonNull("content") && !delta.get("content").asText().isEmpty()) {
                        contentChunks++;
                    }
                }
            }
            assertThat(contentChunks).as(streamed.body()).isGreaterThan(1);
            assertThat(streamed.body()).contains("data: [DONE]");
        }
    }

    @Test
    void readyListsEveryModelAndFailsOnlyForTheUnreadyOne() throws Exception {
        try (Served s = serve()) {
            s.router().faults().inject("a", Fault.READINESS_FAILURE);
            long until = System.nanoTime() + 20_000_000_000L;
            HttpResponse<String> ready = get(s, "/ready");
            while (ready.statusCode() == 200 && System.nanoTime() - until < 0) {
                Thread.sleep(20);
                ready = get(s, "/ready");
            }
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(503);
            JsonNode models = json.readTree(ready.body()).get("models");
            assertThat(models.get("a").get("ready").asBoolean()).isFalse();
            assertThat(models.get("a").get("reason").asText()).isNotBlank();
            assertThat(models.get("b").get("ready").asBoolean()).isTrue();

            assertThat(get(s, "/ready/b").statusCode()).isEqualTo(200);
            HttpResponse<String> a = get(s, "/ready/a");
            assertThat(a.statusCode()).isEqualTo(503);
            assertThat(json.readTree(a.body()).get("ready").asBoolean()).isFalse();
            assertThat(get(s, "/ready/nope").statusCode()).isEqualTo(404);
            // The process itself stays healthy, and the alias is still answered, by its fallback.
            assertThat(get(s, "/health").statusCode()).isEqualTo(200);
            HttpResponse<String> answer = post(s, REQUEST + "}");
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            assertThat(answer.headers().firstValue(CompletionHandler.SERVED_BY)).hasValue("b");
            assertThat(answer.headers().firstValue(CompletionHandler.DEGRADED)).hasValue("true");
        }
    }
}
