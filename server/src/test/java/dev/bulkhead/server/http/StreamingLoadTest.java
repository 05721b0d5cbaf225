package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.model.ModelLoader;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A bounded loopback load test: {@value #CLIENTS} streaming clients on virtual threads start at once against the
 * embedded stories260K (at most 64 running), half on completions and half on chat, greedy, 8 to 16 tokens each.
 * All must be 200 with {@code [DONE]}, no error events, usage matching, and each stream's text equal to the
 * non-streamed answer to the same body; no KV blocks stay in use. TTFT (request sent to the first chunk carrying
 * text) and TPOT (first to last text chunk, over the tokens after the first), measured client-side from SSE chunk
 * arrival, are printed and written to {@code target/load-test.json}; there are no timing assertions.
 */
class StreamingLoadTest {

    private static final String MODEL = "stories260K";
    private static final int CLIENTS = 200;
    private static final List<String> PROMPTS = List.of("Once upon a time", "Lily had a cat", "The sun was",
            "Tom and his dog went to the park", "One day, a little bird");
    private static final int[] MAX_TOKENS = {8, 12, 16};

    private final ObjectMapper json = new ObjectMapper();

    private record Result(int index, String body, int status, String text, boolean done, int usageTokens,
                          long ttftNanos, long lastNanos, String error) {
    }

    private String body(int i, boolean stream) {
        boolean chat = i % 2 == 1;
        String prompt = PROMPTS.get((i / 2) % PROMPTS.size());
        int maxTokens = MAX_TOKENS[(i / (2 * PROMPTS.size())) % MAX_TOKENS.length];
        ObjectNode b = json.createObjectNode().put("model", MODEL);
        if (chat) {
            b.putArray("messages").addObject().put("role", "user").put("content", prompt);
        } else {
            b.put("prompt", prompt);
        }
        b.put("max_tokens", maxTokens).put("temperature", 0).put("ignore_eos", true);
        if (stream) {
            b.put("stream", true).putObject("stream_options").put("include_usage", true);
        }
        return b.toString();
    }

    private static String path(int i) {
        return i % 2 == 1 ? "/v1/chat/completions" : "/v1/completions";
    }

    private Result streamOne(HttpClient http, URI base, int i, CountDownLatch go) {
        String body = body(i, true);
        try {
            go.await();
            long t0 = System.nanoTime();
            HttpResponse<Stream<String>> r = http.send(HttpRequest.newBuilder(base.resolve(path(i)))
                    .header("Content-Type", "application/json").timeout(Duration.ofSeconds(90))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofLines());
            StringBuilder text = new StringBuilder();
            boolean done = false;
            int usage = -1;
            long first = -1;
            long last = -1;
            String error = null;
            try (Stream<String> lines = r.body()) {
                for (String line : (Iterable<String>) lines::iterator) {
                    if (!line.startsWith("data: ")) {
                        continue;
                    }
                    long now = System.nanoTime() - t0;
                    String data = line.substring(6);
                    if (data.equals("[DONE]")) {
                        done = true;
                        continue;
                    }
                    JsonNode chunk = json.readTree(data);
                    if (chunk.has("error")) {
                        error = data;
                        continue;
                    }
                    if (chunk.path("usage").isObject()) {
                        usage = chunk.get("usage").get("completion_tokens").asInt();
                    }
                    for (JsonNode choice : chunk.path("choices")) {
                        String t = choice.has("delta") ? choice.get("delta").path("content").asText("")
                                : choice.path("text").asText("");
                        if (!t.isEmpty()) {
                            if (first < 0) {
                                first = now;
                            }
                            last = now;
                            text.append(t);
                        }
                    }
                }
            }
            return new Result(i, body, r.statusCode(), text.toString(), done, usage, first, last, error);
        } catch (Exception e) {
            return new Result(i, body, -1, "", false, -1, -1, -1, e.toString());
        }
    }

    @Test
    @Timeout(120)
    void hundredsOfConcurrentStreamsAllSucceedAndMatchTheirNonStreamedText() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        EngineOptions options = EngineOptions.defaults().withThreads(2).withMaxRunning(64)
                .withKvCacheBytes(16L << 20).withMaxModelLen(256);
        LlmEngine engine = new LlmEngine(MODEL, ModelLoader.load(null), options, registry, ModelRunnerFactory.CPU);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(30)).build();
        try (BulkheadServer server = BulkheadServer.start(ServerConfig.local(0), new EngineBackend(MODEL, engine),
                registry)) {
            URI base = URI.create("http://127.0.0.1:" + server.port());

            // The non-streamed answer to each distinct body, one at a time.
            Map<String, String> expected = new HashMap<>();
            for (int i = 0; i < 2 * PROMPTS.size() * MAX_TOKENS.length; i++) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve(path(i)))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                                body(i, false))).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                JsonNode choice = json.readTree(r.body()).get("choices").get(0);
                expected.put(body(i, true), choice.has("message") ? choice.get("message").get("content").asText()
                        : choice.get("text").asText());
            }

            CountDownLatch go = new CountDownLatch(1);
            List<Future<Result>> futures = new ArrayList<>();
            long wall0;
            long wall;
            try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < CLIENTS; i++) {
                    int idx = i;
                    futures.add(clients.submit(() -> streamOne(http, base, idx, go)));
                }
                wall0 = System.nanoTime();
                go.countDown();
                for (Future<Result> f : futures) {
                    f.get(100, TimeUnit.SECONDS);
                }
                wall = System.nanoTime() - wall0;
            }

            List<String> errors = new ArrayList<>();
            ConcurrentLinkedQueue<Long> ttft = new ConcurrentLinkedQueue<>();
            List<Double> tpot = new ArrayList<>();
            int tokens = 0;
            for (Future<Result> f : futures) {
                Result r = f.get();
                String problem = r.error() != null ? r.error()
                        : r.status() != 200 ? "status " + r.status()
                        : !r.done() ? "no [DONE]"
                        : r.usageTokens() < 1 ? "no usage chunk"
                        : !r.text().equals(expected.get(r.body())) ? "text " + r.text() + " != non-stream "
                                + expected.get(r.body())
                        : null;
                if (problem != null) {
                    errors.add("client " + r.index() + ": " + problem);
                    continue;
                }
                tokens += r.usageTokens();
                ttft.add(r.ttftNanos());
                if (r.usageTokens() > 1) {
                    tpot.add((r.lastNanos() - r.ttftNanos()) / 1e6 / (r.usageTokens() - 1));
                }
            }
            assertThat(errors).as("%d of %d streams failed", errors.size(), CLIENTS).isEmpty();

            double[] ttftMs = ttft.stream().mapToDouble(n -> n / 1e6).sorted().toArray();
            double[] tpotMs = tpot.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            ObjectNode report = json.createObjectNode();
            report.put("clients", CLIENTS).put("errors", 0).put("max_running", options.maxRunning())
                    .put("engine_threads", options.threads()).put("completion_tokens", tokens)
                    .put("wall_ms", round(wall / 1e6)).put("tokens_per_second", round(tokens / (wall / 1e9)))
                    .put("cpus", Runtime.getRuntime().availableProcessors());
            percentiles(report.putObject("ttft_ms"), ttftMs);
            percentiles(report.putObject("tpot_ms"), tpotMs);
            String out = json.writerWithDefaultPrettyPrinter().writeValueAsString(report);
            System.out.println("StreamingLoadTest: " + out);
            Path file = Path.of("target", "load-test.json");
            Files.createDirectories(file.getParent());
            Files.writeString(file, out);

            // NOTE: scheduler stats are as of the loop's last iteration, which may trail the answer by a step.
            long until = System.nanoTime() + 10_000_000_000L;
            while ((engine.inFlight() > 0 || engine.stats().kv().numInUse() > 0) && System.nanoTime() < until) {
                Thread.sleep(10);
            }
            assertThat(engine.inFlight()).isZero();
            assertThat(engine.stats().kv().numInUse()).isZero();
        }
    }

    private static void percentiles(ObjectNode node, double[] sorted) {
        node.put("count", sorted.length);
        for (int p : new int[] {50, 90, 99}) {
            node.put("p" + p, round(nearestRank(sorted, p)));
        }
        node.put("max", sorted.length == 0 ? Double.NaN : round(sorted[sorted.length - 1]));
        node.put("mean", round(Arrays.stream(sorted).average().orElse(Double.NaN)));
    }

    private static double nearestRank(double[] sorted, int p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    private static double round(double v) {
        return Double.parseDouble(String.format(Locale.ROOT, "%.3f", v));
    }
}
