package dev.bulkhead.server.http;

import dev.bulkhead.engine.chat.ChatTemplateSource;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.TokenStream;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** API keys: parsing, the 401/404 answers in OpenAI's shape, allow lists, open ops endpoints, and exposure. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuthTest {

    private static final String ALL = "sk-test-all-0123456789abcdef";
    private static final String OTHER_ONLY = "sk-test-other-0123456789abcd";
    private static final String COMPLETION = """
            {"model":"stories260K","prompt":"Once upon a time","max_tokens":6,"temperature":0,"ignore_eos":true}
            """;

    private final ObjectMapper json = new ObjectMapper();
    private ServerFixture fx;

    @BeforeAll
    void start() {
        ApiKeys keys = ApiKeys.parse(ALL + "\n" + OTHER_ONLY + "  other-model", "\\R", "test");
        fx = new ServerFixture(ServerConfig.local(0).withApiKeys(keys));
    }

    @AfterAll
    void stop() {
        fx.close();
    }

    private HttpResponse<String> post(String path, String body, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(fx.uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return fx.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(fx.uri(path)).GET();
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return fx.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode error(HttpResponse<String> r, int status) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        JsonNode err = json.readTree(r.body()).get("error");
        assertThat(err).isNotNull();
        assertThat(err.get("message").asText()).isNotBlank();
        assertThat(err.has("type") && err.has("param") && err.has("code")).isTrue();
        return err;
    }

    @Test
    void missingKeyIs401InOpenAiShape() throws Exception {
        HttpResponse<String> r = post("/v1/completions", COMPLETION, null);
        JsonNode err = error(r, 401);
        assertThat(err.get("code").asText()).isEqualTo("invalid_api_key");
        assertThat(err.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
        assertThat(error(get("/v1/models", null), 401).get("code").asText()).isEqualTo("invalid_api_key");
        // Another scheme is no key either.
        assertThat(error(post("/v1/completions", COMPLETION, "Basic " + ALL), 401).get("code").asText())
                .isEqualTo("invalid_api_key");
    }

    @Test
    void wrongKeyIs401AndTheMessageNeverEchoesIt() throws Exception {
        String wrong = "sk-test-wrong-0123456789abcdef";
        HttpResponse<String> r = post("/v1/chat/completions",
                "{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "Bearer " + wrong);
        assertThat(error(r, 401).get("code").asText()).isEqualTo("invalid_api_key");
        assertThat(r.body()).doesNotContain(wrong);
        // A prefix of a real key is wrong too.
        assertThat(post("/v1/completions", COMPLETION, "Bearer " + ALL.substring(0, 20)).statusCode()).isEqualTo(401);
    }

    @Test
    void keyNotAllowedForTheModelIs404LikeOpenAi() throws Exception {
        JsonNode err = error(post("/v1/completions", COMPLETION, "Bearer " + OTHER_ONLY), 404);
        assertThat(err.get("code").asText()).isEqualTo("model_not_found");
        assertThat(err.get("param").asText()).isEqualTo("model");
        assertThat(err.get("message").asText()).contains("do not have access");
        String streamed = COMPLETION.strip().replaceFirst("}$", ",\"stream\":true}");
        assertThat(post("/v1/completions", streamed, "Bearer " + OTHER_ONLY).statusCode()).isEqualTo(404);
        // It sees only its own models.
        JsonNode list = json.readTree(get("/v1/models", "Bearer " + OTHER_ONLY).body());
        assertThat(list.get("data")).isEmpty();
    }

    @Test
    void allowedKeyGetsAnswersWholeAndStreamed() throws Exception {
        HttpResponse<String> whole = post("/v1/completions", COMPLETION, "Bearer " + ALL);
        assertThat(whole.statusCode()).as(whole.body()).isEqualTo(200);
        assertThat(json.readTree(whole.body()).get("usage").get("completion_tokens").asInt()).isEqualTo(6);
        assertThat(whole.headers().firstValue(CompletionHandler.SERVED_BY)).hasValue(ServerFixture.MODEL);
        assertThat(whole.headers().firstValue(CompletionHandler.DEGRADED)).isEmpty();

        String streamed = COMPLETION.strip().replaceFirst("}$", ",\"stream\":true}");
        HttpResponse<String> sse = post("/v1/completions", streamed, "bearer  " + ALL);
        assertThat(sse.statusCode()).as(sse.body()).isEqualTo(200);
        assertThat(sse.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v)
                .startsWith("text/event-stream"));
        assertThat(sse.body()).contains("data: [DONE]");

        JsonNode models = json.readTree(get("/v1/models", "Bearer " + ALL).body());
        assertThat(models.get("data").get(0).get("id").asText()).isEqualTo(ServerFixture.MODEL);
    }

    @Test
    void opsEndpointsStayOpen() throws Exception {
        assertThat(get("/health", null).statusCode()).isEqualTo(200);
        assertThat(get("/ready", null).statusCode()).isEqualTo(200);
        assertThat(get("/ready/" + ServerFixture.MODEL, null).statusCode()).isEqualTo(200);
        assertThat(get("/metrics", null).statusCode()).isEqualTo(200);
    }

    @Test
    void startRefusesAnOpenServerOnANonLoopbackAddress() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ServerConfig open = ServerConfig.local(0).withHost("0.0.0.0");
        AtomicBoolean closed = new AtomicBoolean();
        assertThatThrownBy(() -> BulkheadServer.start(open, new NoModels(closed), registry))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("0.0.0.0")
                .hasMessageContaining("--allow-unauthenticated-remote")
                .hasMessageContaining("allowUnauthenticatedRemote");
        assertThat(closed).as("a refused start closes the backend it was handed").isTrue();

        BulkheadServer.start(open.withAllowUnauthenticatedRemote(true), new NoModels(closed), registry).stop();
        BulkheadServer.start(open.withApiKeys(ApiKeys.fromEnv(ALL)), new NoModels(closed), registry).stop();
        BulkheadServer.start(ServerConfig.local(0).withHost("localhost"), new NoModels(closed), registry).stop();
    }

    @Test
    void keyFilesAndTheEnvironmentVariableShareOneSyntax(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("keys.txt");
        Files.writeString(file, """
                # operators
                sk-ops-aaaaaaaaaaaaaaaa

                sk-team-bbbbbbbbbbbbbbbb   chat, small-v1   # team B
                sk-star-cccccccccccccccc   *
                """);
        ApiKeys keys = ApiKeys.load(file);
        assertThat(keys.size()).isEqualTo(3);
        assertThat(keys.authenticate("sk-ops-aaaaaaaaaaaaaaaa").orElseThrow().allows("anything")).isTrue();
        ApiKeys.Key team = keys.authenticate("sk-team-bbbbbbbbbbbbbbbb").orElseThrow();
        assertThat(team.models()).isEqualTo(Set.of("chat", "small-v1"));
        assertThat(team.allows("large")).isFalse();
        assertThat(keys.authenticate("sk-star-cccccccccccccccc").orElseThrow().models()).isEmpty();
        assertThat(keys.authenticate("sk-nope-dddddddddddddddd")).isEmpty();
        assertThat(keys.authenticate(null)).isEmpty();
        assertThat(keys.toString()).doesNotContain("sk-");

        ApiKeys env = ApiKeys.fromEnv("sk-ops-aaaaaaaaaaaaaaaa; sk-team-bbbbbbbbbbbbbbbb chat;");
        assertThat(env.size()).isEqualTo(2);
        assertThat(env.authenticate("sk-team-bbbbbbbbbbbbbbbb").orElseThrow().models()).containsExactly("chat");
        assertThat(ApiKeys.fromEnv(null).enabled()).isFalse();
        assertThat(ApiKeys.fromEnv(" ; ").enabled()).isFalse();
    }

    @Test
    void badKeyEntriesAreRejectedWithoutEchoingTheKey(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> ApiKeys.fromEnv("short"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 16")
                .hasMessageNotContaining("short");
        assertThatThrownBy(() -> ApiKeys.fromEnv("sk-aaaaaaaaaaaaaaaa;sk-aaaaaaaaaaaaaaaa"))
                .hasMessageContaining("entry 2").hasMessageContaining("twice").hasMessageNotContaining("sk-a");
        assertThatThrownBy(() -> ApiKeys.fromEnv("sk-aaaaaaaaaaaaaaaa chat large"))
                .hasMessageContaining("commas");
        assertThatThrownBy(() -> ApiKeys.fromEnv("sk-\"aaaaaaaaaaaaaaaa"))
                .hasMessageContaining("may only hold");
        Path empty = Files.writeString(dir.resolve("empty.txt"), "# nothing here\n");
        assertThatThrownBy(() -> ApiKeys.load(empty)).hasMessageContaining("has no keys");
        assertThatThrownBy(() -> ApiKeys.load(dir.resolve("missing.txt"))).hasMessageContaining("cannot read");
    }

    /** A backend with no models, for start-up checks that never serve a request. */
    private record NoModels(AtomicBoolean closed) implements ModelBackend {

        @Override
        public List<String> models() {
            return List.of();
        }

        @Override
        public CompletableFuture<ServedCompletion> complete(String model, GenerateRequest request) {
            throw new UnsupportedOperationException();
        }

        @Override
        public TokenStream stream(String model, GenerateRequest request) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Optional<ChatTemplateSource> chatTemplate(String model) {
            return Optional.empty();
        }

        @Override
        public Map<String, Readiness> readiness() {
            return Map.of();
        }

        @Override
        public boolean healthy() {
            return true;
        }

        @Override
        public void close() {
            closed.set(true);
        }
    }
}
