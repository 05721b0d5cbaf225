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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A load test of the request path's CPU work: {@value #CLIENTS} clients post 1 MB prompts to
 * {@code /v1/completions} back to back (each far past the context, so each must be refused) while probes on platform
 * threads ask {@code /health}, one starting every {@value #PROBE_EVERY_MILLIS} ms whether or not the last answered. The probe's
 * latencies (p50, p90, p99, max) and the posts' statuses are printed and written to
 * {@code target/health-under-large-prompts*.json}; there are no timing assertions (the figures depend on the machine).
 * It asserts what must hold anywhere: every probe is a 200, every big post a 4xx in OpenAI's error shape, and the
 * engine ends idle.
 *
 * <p>The engine is the embedded stories260K with 2 threads (the {@code serve} defaults, scaled down), so the probe
 * sees what a liveness probe with a timeout would see while tokenizer-sized work floods the server.
 */
class HealthUnderLargePromptsLoadTest {

    private static final String MODEL = "stories260K";
    private static final int CLIENTS = 8;
    private static final int PROMPT_CHARS = 1_000_000;
    private static final long WARMUP_MILLIS = 2_000;
    private static final long MEASURE_MILLIS = 12_000;
    private static final long PROBE_EVERY_MILLIS = 20;

    private final ObjectMapper json = new ObjectMapper();

    @Test
    @Timeout(120)
    void healthStaysAnsweredWhileClientsPostMegabytePrompts() throws Exception {
        measure("health-under-large-prompts", backend -> backend);
    }

    /**
     * The same load with the character limit out of the way (a backend that does not tell its context), so every
     * megabyte is tokenized: what keeps {@code /health} answered then is only that tokenizing runs on the CPU pool.
     */
    @Test
    @Timeout(120)
    void healthStaysAnsweredWhileEveryMegabytePromptIsTokenized() throws Exception {
        measure("health-under-large-prompts-tokenized", backend -> new ForwardingBackend(backend) {
            @Override
            public java.util.OptionalInt contextTokens(String model) {
                return java.util.OptionalInt.empty();
            }
        });
    }

    private void measure(String name, java.util.function.UnaryOperator<ModelBackend> wrap) throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        EngineOptions options = EngineOptions.defaults().withThreads(2).withKvCacheBytes(16L << 20)
                .withMaxModelLen(512);
        LlmEngine engine = new LlmEngine(MODEL, ModelLoader.load(null), options, registry, ModelRunnerFactory.CPU);
        try (BulkheadServer server = BulkheadServer.start(ServerConfig.local(0),
                wrap.apply(new EngineBackend(MODEL, engine)), registry)) {
            URI base = URI.create("http://127.0.0.1:" + server.port());
            byte[] body = bigBody();
            assertThat(body.length).isLessThanOrEqualTo((int) ServerConfig.DEFAULT_MAX_BODY_BYTES);

            AtomicBoolean stop = new AtomicBoolean();
            Map<String, AtomicInteger> statuses = new ConcurrentHashMap<>();
            List<String> badAnswers = java.util.Collections.synchronizedList(new ArrayList<>());
            List<Thread> posters = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                // NOTE: platform threads and one client each, so the load generator does not share the server's
                // virtual-thread carriers and every poster keeps its own connection busy.
                HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                posters.add(Thread.ofPlatform().name("big-poster-" + c).start(() -> {
                    while (!stop.get()) {
                        try {
                            HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("/v1/completions"))
                                    .header("Content-Type", "application/json").timeout(Duration.ofSeconds(60))
                                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                                    HttpResponse.BodyHandlers.ofString());
                            statuses.computeIfAbsent(Integer.toString(r.statusCode()), k -> new AtomicInteger())
                                    .incrementAndGet();
                            String problem = openAiError(r);
                            if (problem != null && badAnswers.size() < 5) {
                                badAnswers.add(problem);
                            }
                        } catch (Exception e) {
                            statuses.computeIfAbsent(e.getClass().getSimpleName(), k -> new AtomicInteger())
                                    .incrementAndGet();
                        }
                    }
                }));
            }

            // NOTE: open loop: a probe starts every period whether or not the last one answered, as a kubelet's
            // would, so slow answers cannot hide the time they stall (a closed loop would sample them once).
            HttpClient probe = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            List<Double> latencies = java.util.Collections.synchronizedList(new ArrayList<>());
            List<String> probeFailures = java.util.Collections.synchronizedList(new ArrayList<>());
            long measureFrom = System.nanoTime() + WARMUP_MILLIS * 1_000_000;
            long end = measureFrom + MEASURE_MILLIS * 1_000_000;
            try (ExecutorService probes = Executors.newCachedThreadPool()) {
                while (System.nanoTime() < end) {
                    boolean measured = System.nanoTime() >= measureFrom;
                    probes.execute(() -> {
                        long t0 = System.nanoTime();
                        try {
                            HttpResponse<String> r = probe.send(HttpRequest.newBuilder(base.resolve("/health"))
                                    .timeout(Duration.ofSeconds(60)).GET().build(),
                                    HttpResponse.BodyHandlers.ofString());
                            long took = System.nanoTime() - t0;
                            if (r.statusCode() != 200) {
                                probeFailures.add("status " + r.statusCode() + ": " + r.body());
                            } else if (measured) {
                                latencies.add(took / 1e6);
                            }
                        } catch (Exception e) {
                            probeFailures.add(e.toString());
                        }
                    });
                    Thread.sleep(PROBE_EVERY_MILLIS);
                }
            }
            stop.set(true);
            for (Thread t : posters) {
                t.join(60_000);
            }
            double[] sorted = latencies.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            Map<String, Integer> counts = new TreeMap<>();
            statuses.forEach((k, v) -> counts.put(k, v.get()));
            ObjectNode report = json.createObjectNode();
            report.put("scenario", name).put("clients", CLIENTS).put("prompt_chars", PROMPT_CHARS).put("body_bytes", body.length)
                    .put("measure_ms", MEASURE_MILLIS).put("cpus", Runtime.getRuntime().availableProcessors());
            ObjectNode h = report.putObject("health_ms");
            h.put("count", sorted.length);
            for (int p : new int[] {50, 90, 99}) {
                h.put("p" + p, round(nearestRank(sorted, p)));
            }
            h.put("max", sorted.length == 0 ? Double.NaN : round(sorted[sorted.length - 1]));
            report.put("probe_failures", probeFailures.size());
            report.set("post_statuses", json.valueToTree(counts));
            String out = json.writerWithDefaultPrettyPrinter().writeValueAsString(report);
            System.out.println("HealthUnderLargePromptsLoadTest: " + out);
            Path file = Path.of("target", name + ".json");
            Files.createDirectories(file.getParent());
            Files.writeString(file, out);

            assertThat(probeFailures).as("every /health probe answered 200").isEmpty();
            assertThat(sorted.length).as("probes measured").isGreaterThan(100);
            assertThat(counts.keySet()).as("every big post answered with a 4xx").allMatch(k -> k.startsWith("4"));
            assertThat(badAnswers).as("4xx bodies in OpenAI's error shape").isEmpty();
            long until = System.nanoTime() + 10_000_000_000L;
            while ((engine.inFlight() > 0 || engine.stats().kv().numInUse() > 0) && System.nanoTime() < until) {
                Thread.sleep(10);
            }
            assertThat(engine.inFlight()).isZero();
            assertThat(engine.stats().kv().numInUse()).isZero();
        }
    }

    /** A completions body whose prompt is {@value #PROMPT_CHARS} characters of story text, under the 1 MiB limit. */
    private byte[] bigBody() {
        String sentence = "Once upon a time there was a little girl who liked to play in the park. ";
        StringBuilder prompt = new StringBuilder(PROMPT_CHARS);
        while (prompt.length() < PROMPT_CHARS) {
            prompt.append(sentence);
        }
        prompt.setLength(PROMPT_CHARS);
        ObjectNode b = json.createObjectNode().put("model", MODEL).put("prompt", prompt.toString())
                .put("max_tokens", 1);
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Null when {@code r} is an error in OpenAI's shape with a message, else what is wrong with it. */
    private String openAiError(HttpResponse<String> r) {
        try {
            JsonNode e = json.readTree(r.body()).path("error");
            return e.path("message").asText("").isBlank() ? "status " + r.statusCode() + " body " + r.body() : null;
        } catch (Exception x) {
            return "status " + r.statusCode() + " unparsable body " + r.body();
        }
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
