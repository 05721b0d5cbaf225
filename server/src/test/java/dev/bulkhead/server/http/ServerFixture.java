package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.model.ModelLoader;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

/** The embedded stories260K behind a {@link BulkheadServer} on a free loopback port, and an HTTP client for it. */
final class ServerFixture implements AutoCloseable {

    static final String MODEL = "stories260K";

    final LlmEngine engine;
    final BulkheadServer server;
    final HttpClient http = HttpClient.newHttpClient();
    final PrometheusMeterRegistry registry;
    private final ObjectMapper json = new ObjectMapper();

    ServerFixture(ServerConfig config) {
        this(config, ModelRunnerFactory.CPU);
    }

    ServerFixture(ServerConfig config, ModelRunnerFactory runners) {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        EngineOptions options = EngineOptions.defaults().withThreads(1).withKvCacheBytes(1 << 20).withMaxModelLen(256);
        engine = new LlmEngine(MODEL, ModelLoader.load(null), options, registry, runners);
        server = BulkheadServer.start(config, new EngineBackend(MODEL, engine), registry);
    }

    ServerFixture() {
        this(ServerConfig.local(0));
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    HttpResponse<String> post(String path, String body) throws Exception {
        return post(path, body.getBytes(StandardCharsets.UTF_8));
    }

    HttpResponse<String> post(String path, byte[] body) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Asserts a 200 (showing the body otherwise) and parses the body as JSON. */
    JsonNode ok(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return json.readTree(r.body());
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Sends {@code body} as a POST to {@code path} over a raw socket the caller owns, so a test can close the
     * connection whenever it likes (java.net.http offers no way to drop a connection mid-answer).
     */
    Socket openPost(String path, String body) throws java.io.IOException {
        Socket s = new Socket("127.0.0.1", server.port());
        OutputStream out = s.getOutputStream();
        out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
                .getBytes(StandardCharsets.UTF_8));
        out.flush();
        return s;
    }

    /** Waits up to {@code millis} for the engine to go idle, then asserts nothing is in flight and no block is held. */
    void assertIdleWithin(long millis) throws InterruptedException {
        long until = System.nanoTime() + millis * 1_000_000;
        // NOTE: scheduler stats are as of the loop's last iteration, which may trail the answer by a step.
        while ((engine.inFlight() > 0 || engine.stats().kv().numInUse() > 0) && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertThat(engine.inFlight()).isZero();
        assertThat(engine.stats().kv().numInUse()).isZero();
    }

    @Override
    public void close() {
        server.stop();
    }
}
