package dev.bulkhead.it.chaos;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Clients of the HTTP API for the chaos test: a fixed number of threads per alias, each posting one
 * {@code /v1/completions} at a time from a fixed prompt set, recording every outcome and who served it
 * ({@code X-Bulkhead-Served-By}, {@code X-Bulkhead-Degraded}).
 */
final class CompletionLoad implements AutoCloseable {

    /** One finished request. */
    record Sample(String alias, long startNanos, long endNanos, int status, boolean degraded, String servedBy,
                  String error) {

        boolean ok() {
            return status == 200;
        }

        double millis() {
            return (endNanos - startNanos) / 1e6;
        }
    }

    private static final List<String> PROMPTS = List.of("Once upon a time", "The little dog", "One day a girl",
            "Tom and Sue", "The sun was", "A big red ball", "Lily wanted to", "In the park");

    private final URI uri;
    private final int maxTokens;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
            .version(HttpClient.Version.HTTP_1_1).build();
    private final Queue<Sample> samples = new ConcurrentLinkedQueue<>();
    private final java.util.Map<Thread, Long> inFlight = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopping;

    CompletionLoad(URI base, List<String> aliases, int threadsPerAlias, int maxTokens) {
        this.uri = base.resolve("/v1/completions");
        this.maxTokens = maxTokens;
        for (String alias : aliases) {
            for (int i = 0; i < threadsPerAlias; i++) {
                int seed = i;
                threads.add(Thread.ofPlatform().name("chaos-http-" + alias + "-" + i).start(() -> loop(alias, seed)));
            }
        }
    }

    private void loop(String alias, int seed) {
        int n = seed;
        while (!stopping) {
            String body = "{\"model\": \"" + alias + "\", \"prompt\": \"" + PROMPTS.get(n++ % PROMPTS.size())
                    + "\", \"max_tokens\": " + maxTokens + ", \"temperature\": 0, \"ignore_eos\": true}";
            long start = System.nanoTime();
            inFlight.put(Thread.currentThread(), start);
            Sample s;
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(15))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(), HttpResponse.BodyHandlers.ofString());
                s = new Sample(alias, start, System.nanoTime(), r.statusCode(),
                        r.headers().firstValue("X-Bulkhead-Degraded").map(Boolean::parseBoolean).orElse(false),
                        r.headers().firstValue("X-Bulkhead-Served-By").orElse(""),
                        r.statusCode() == 200 ? "" : r.body());
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                    return;
                }
                s = new Sample(alias, start, System.nanoTime(), -1, false, "", e.toString());
                try {
                    // NOTE: a dead server refuses at once; do not spin on it.
                    Thread.sleep(20);
                } catch (InterruptedException ie) {
                    return;
                }
            }
            samples.add(s);
            inFlight.remove(Thread.currentThread());
        }
    }

    /**
     * Waits until every request that started in [from, to) has an outcome (an answer, an error or the client's
     * timeout), at most {@code millis}; a stalled server's requests then count, rather than vanish from the window.
     */
    void awaitOutcomes(long from, long to, long millis) throws InterruptedException {
        long until = System.nanoTime() + millis * 1_000_000;
        while (System.nanoTime() < until
                && inFlight.values().stream().anyMatch(start -> start >= from && start < to)) {
            Thread.sleep(20);
        }
    }

    /** Samples that started in [from, to). */
    List<Sample> between(long from, long to) {
        return samples.stream().filter(s -> s.startNanos() >= from && s.startNanos() < to).toList();
    }

    /** Samples that started at or after {@code from}. */
    List<Sample> since(long from) {
        return samples.stream().filter(s -> s.startNanos() >= from).toList();
    }

    @Override
    public void close() {
        stopping = true;
        try {
            for (Thread t : threads) {
                t.join(20_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        http.close();
    }
}
