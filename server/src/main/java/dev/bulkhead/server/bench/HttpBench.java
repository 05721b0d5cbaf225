package dev.bulkhead.server.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Replays a trace against a running server's streaming OpenAI API: each request is sent at its arrival
 * offset on its own virtual thread (held back while {@code maxConcurrency} are in flight), with a random word
 * prompt of its length, {@code max_tokens} = its output length and {@code ignore_eos} so that length is
 * honoured. Every SSE {@code data:} line that carries text is stamped with {@link System#nanoTime()} on arrival.
 */
public final class HttpBench {

    /** Which OpenAI endpoint is driven. */
    public enum Endpoint {
        COMPLETIONS("/v1/completions"), CHAT("/v1/chat/completions");

        final String path;

        Endpoint(String path) {
            this.path = path;
        }
    }

    /**
     * How to reach the server.
     *
     * @param baseUrl        scheme, host and port, with or without a trailing {@code /v1}
     * @param model          the {@code model} field of every request
     * @param apiKey         bearer token, or null
     * @param endpoint       completions or chat
     * @param maxConcurrency most requests in flight, >= 1
     * @param timeout        per-request limit
     */
    public record Target(String baseUrl, String model, String apiKey, Endpoint endpoint, int maxConcurrency,
                         Duration timeout) {

        public Target {
            if (baseUrl == null || !(baseUrl.startsWith("http://") || baseUrl.startsWith("https://"))) {
                throw new IllegalArgumentException("url must start with http:// or https://, got " + baseUrl);
            }
            if (model == null || model.isBlank()) {
                throw new IllegalArgumentException("model must be given");
            }
            if (maxConcurrency < 1) {
                throw new IllegalArgumentException("maxConcurrency must be >= 1, got " + maxConcurrency);
            }
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be positive, got " + timeout);
            }
            baseUrl = baseUrl.replaceAll("/+$", "").replaceAll("/v1$", "");
        }

        URI uri() {
            return URI.create(baseUrl + endpoint.path);
        }
    }

    /** The result of one run: when it started and what each request saw, in trace order. */
    public record Result(long startNanos, List<HttpTiming> requests) {

        public Result {
            requests = List.copyOf(requests);
        }

        public BenchSummary summary() {
            return BenchSummary.of(startNanos, requests);
        }
    }

    private final Target target;
    private final ObjectMapper json = new ObjectMapper();
    // NOTE: HTTP/1.1 because a plain-text HTTP/2 upgrade is not something every OpenAI server accepts.
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    public HttpBench(Target target) {
        this.target = target;
    }

    /** Sends every request of {@code trace} on schedule and waits for all of them. */
    public Result run(List<TraceRequest> trace, WordPrompts prompts) throws InterruptedException {
        Semaphore slots = new Semaphore(target.maxConcurrency());
        List<Future<HttpTiming>> futures = new ArrayList<>(trace.size());
        long start = System.nanoTime();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < trace.size(); i++) {
                TraceRequest r = trace.get(i);
                long due = start + Math.round(r.arrivalOffsetMillis() * 1e6);
                sleepUntil(due);
                int index = i;
                String body = body(prompts.prompt(i, r.promptLen()), r.outputLen());
                futures.add(threads.submit(() -> {
                    slots.acquire();
                    try {
                        return send(index, due, body, r.promptLen());
                    } finally {
                        slots.release();
                    }
                }));
            }
            threads.shutdown();
            threads.awaitTermination(Long.MAX_VALUE, TimeUnit.NANOSECONDS);
        }
        List<HttpTiming> timings = new ArrayList<>(futures.size());
        for (Future<HttpTiming> f : futures) {
            timings.add(f.resultNow());
        }
        return new Result(start, timings);
    }

    private String body(String prompt, int maxTokens) {
        ObjectNode root = json.createObjectNode();
        root.put("model", target.model());
        if (target.endpoint() == Endpoint.CHAT) {
            root.putArray("messages").addObject().put("role", "user").put("content", prompt);
        } else {
            root.put("prompt", prompt);
        }
        root.put("max_tokens", maxTokens);
        root.put("temperature", 0);
        root.put("ignore_eos", true);
        root.put("stream", true);
        root.putObject("stream_options").put("include_usage", true);
        return root.toString();
    }

    /** One streamed request; failures are recorded, never thrown, so one bad request does not end the run. */
    private HttpTiming send(int index, long scheduledNanos, String body, int tracePromptLen) {
        HttpRequest.Builder request = HttpRequest.newBuilder(target.uri()).timeout(target.timeout())
                .header("Content-Type", "application/json").header("Accept", "text/event-stream")
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (target.apiKey() != null) {
            request.header("Authorization", "Bearer " + target.apiKey());
        }
        long submit = System.nanoTime();
        try {
            HttpResponse<InputStream> response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = response.body()) {
                if (response.statusCode() != 200) {
                    String text = new String(in.readNBytes(300), StandardCharsets.UTF_8).replace('\n', ' ');
                    return HttpTiming.failed(index, scheduledNanos, submit, "HTTP " + response.statusCode() + ": " + text);
                }
                return read(index, scheduledNanos, submit, in, tracePromptLen);
            }
        } catch (IOException | RuntimeException e) {
            return HttpTiming.failed(index, scheduledNanos, submit, e.getClass().getSimpleName() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return HttpTiming.failed(index, scheduledNanos, submit, "interrupted");
        }
    }

    private HttpTiming read(int index, long scheduledNanos, long submit, InputStream in, int tracePromptLen)
            throws IOException {
        BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        long[] stamps = new long[16];
        int count = 0;
        int promptTokens = -1;
        int outputTokens = -1;
        boolean done = false;
        String line;
        while ((line = lines.readLine()) != null) {
            long now = System.nanoTime();
            if (!line.startsWith("data:")) {
                continue;
            }
            String data = line.substring(5).trim();
            if (data.equals("[DONE]")) {
                done = true;
                break;
            }
            JsonNode chunk = json.readTree(data);
            if (chunk.has("error")) {
                return HttpTiming.failed(index, scheduledNanos, submit, "stream error: " + chunk.get("error"));
            }
            JsonNode usage = chunk.get("usage");
            if (usage != null && usage.isObject()) {
                promptTokens = usage.path("prompt_tokens").asInt(-1);
                outputTokens = usage.path("completion_tokens").asInt(-1);
            }
            JsonNode choice = chunk.path("choices").path(0);
            String text = target.endpoint() == Endpoint.CHAT ? choice.path("delta").path("content").asText("")
                    : choice.path("text").asText("");
            if (!text.isEmpty()) {
                if (count == stamps.length) {
                    stamps = Arrays.copyOf(stamps, count * 2);
                }
                stamps[count++] = now;
            }
        }
        long end = System.nanoTime();
        if (!done) {
            return HttpTiming.failed(index, scheduledNanos, submit, "stream ended without [DONE]");
        }
        return new HttpTiming(index, scheduledNanos, submit, end, Arrays.copyOf(stamps, count),
                promptTokens >= 0 ? promptTokens : tracePromptLen, outputTokens >= 0 ? outputTokens : count, null);
    }

    private static void sleepUntil(long deadlineNanos) throws InterruptedException {
        long left;
        while ((left = deadlineNanos - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
            if (Thread.interrupted()) {
                throw new InterruptedException("benchmark interrupted");
            }
        }
    }
}
