package dev.bulkhead.server.http;

import dev.bulkhead.engine.chat.ChatTemplateSource;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.model.ModelLoader;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The request path's CPU work runs on {@link RequestCpuPool}'s platform threads, seen from a backend that records
 * which thread calls it (the engine tokenizes inside {@code complete} and {@code streamServed}; the chat template is
 * fetched and rendered while preparing), and a full pool refuses requests with a 429 in OpenAI's shape.
 */
class RequestCpuPoolTest {

    private static final String MODEL = "stories260K";
    private final ObjectMapper json = new ObjectMapper();

    private static EngineBackend engineBackend() {
        EngineOptions options = EngineOptions.defaults().withThreads(1).withKvCacheBytes(1 << 20).withMaxModelLen(256);
        return new EngineBackend(MODEL, new LlmEngine(MODEL, ModelLoader.load(null), options,
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), ModelRunnerFactory.CPU));
    }

    private static HttpResponse<String> post(HttpClient http, BulkheadServer server, String path, String body)
            throws Exception {
        return http.send(request(server, path, body), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest request(BulkheadServer server, String path, String body) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    @Test
    void tokenizingAndTemplateWorkRunOnPlatformThreadsOfThePool() throws Exception {
        ConcurrentLinkedQueue<String> calls = new ConcurrentLinkedQueue<>();
        ModelBackend recording = new ForwardingBackend(engineBackend()) {
            private void record(String what) {
                Thread t = Thread.currentThread();
                calls.add(what + " on " + (t.isVirtual() ? "virtual " : "platform ") + t.getName());
            }

            @Override
            public CompletableFuture<ServedCompletion> complete(String model, GenerateRequest request) {
                record("complete");
                return super.complete(model, request);
            }

            @Override
            public ServedStream streamServed(String model, GenerateRequest request) {
                record("streamServed");
                return super.streamServed(model, request);
            }

            @Override
            public Optional<ChatTemplateSource> chatTemplate(String model) {
                record("chatTemplate");
                return super.chatTemplate(model);
            }
        };
        HttpClient http = HttpClient.newHttpClient();
        try (BulkheadServer server = BulkheadServer.start(ServerConfig.local(0), recording,
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
            String completion = "{\"model\":\"stories260K\",\"prompt\":\"Once upon a time\",\"max_tokens\":4}";
            assertThat(post(http, server, "/v1/completions", completion).statusCode()).isEqualTo(200);
            assertThat(post(http, server, "/v1/completions", completion.replace("}", ",\"stream\":true}"))
                    .statusCode()).isEqualTo(200);
            assertThat(post(http, server, "/v1/chat/completions", "{\"model\":\"stories260K\",\"messages\":"
                    + "[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":4}").statusCode()).isEqualTo(200);
        }
        assertThat(calls).hasSize(4).allSatisfy(c -> assertThat(c).contains(" on platform bulkhead-request-cpu-"));
        assertThat(calls).anyMatch(c -> c.startsWith("streamServed")).anyMatch(c -> c.startsWith("chatTemplate"));
    }

    @Test
    @Timeout(60)
    void aFullQueueIsRefusedWith429AndTheWaitingRequestsStillSucceed() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ModelBackend blocking = new ForwardingBackend(engineBackend()) {
            @Override
            public CompletableFuture<ServedCompletion> complete(String model, GenerateRequest request) {
                entered.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return super.complete(model, request);
            }
        };
        HttpClient http = HttpClient.newHttpClient();
        ServerConfig config = ServerConfig.local(0).withRequestCpu(new CpuPoolConfig(1, 1));
        try (BulkheadServer server = BulkheadServer.start(config, blocking,
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
            String body = "{\"model\":\"stories260K\",\"prompt\":\"Once upon a time\",\"max_tokens\":4}";
            CompletableFuture<HttpResponse<String>> first = http.sendAsync(request(server, "/v1/completions", body),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(entered.await(30, TimeUnit.SECONDS)).as("first request holds the only CPU thread").isTrue();
            // NOTE: one of these two takes the only queue slot and waits; the other finds the queue full.
            List<CompletableFuture<HttpResponse<String>>> more = List.of(
                    http.sendAsync(request(server, "/v1/completions", body), HttpResponse.BodyHandlers.ofString()),
                    http.sendAsync(request(server, "/v1/completions", body), HttpResponse.BodyHandlers.ofString()));
            CompletableFuture.anyOf(more.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            release.countDown();
            List<HttpResponse<String>> answers = List.of(first.get(30, TimeUnit.SECONDS),
                    more.get(0).get(30, TimeUnit.SECONDS), more.get(1).get(30, TimeUnit.SECONDS));
            assertThat(answers).extracting(HttpResponse::statusCode).containsExactlyInAnyOrder(200, 200, 429);
            HttpResponse<String> refused = answers.stream().filter(r -> r.statusCode() == 429).findFirst()
                    .orElseThrow();
            assertThat(refused.headers().firstValue("Retry-After")).hasValue("1");
            JsonNode error = json.readTree(refused.body()).get("error");
            assertThat(error.get("type").asText()).isEqualTo("rate_limit_error");
            assertThat(error.get("code").asText()).isEqualTo("overloaded");
            assertThat(error.get("message").asText()).contains("busy");
        } finally {
            release.countDown();
        }
    }
}
