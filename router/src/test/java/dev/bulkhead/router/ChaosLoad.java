package dev.bulkhead.router;

import dev.bulkhead.engine.api.GenerateRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * A bounded client loop for the chaos test: a fixed number of threads per alias, each sending one request at a
 * time from a fixed prompt set (so the answer cache is warm) and recording every outcome.
 */
final class ChaosLoad implements AutoCloseable {

    /** One finished request. */
    record Sample(String alias, long startNanos, long endNanos, boolean ok, boolean degraded, String servedBy,
                  boolean withinDeadline, String error) {

        double millis() {
            return (endNanos - startNanos) / 1e6;
        }
    }

    static final List<String> PROMPTS = List.of("Once upon a time", "The little dog", "One day a girl", "Tom and Sue",
            "The sun was", "A big red ball", "Lily wanted to", "In the park");

    private final Router router;
    private final Duration deadline;
    private final int maxTokens;
    private final Queue<Sample> samples = new ConcurrentLinkedQueue<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopping;

    ChaosLoad(Router router, List<String> aliases, int threadsPerAlias, int maxTokens, Duration deadline) {
        this.router = router;
        this.deadline = deadline;
        this.maxTokens = maxTokens;
        for (String alias : aliases) {
            for (int i = 0; i < threadsPerAlias; i++) {
                int seed = i;
                threads.add(Thread.ofPlatform().name("chaos-client-" + alias + "-" + i).start(() -> loop(alias, seed)));
            }
        }
    }

    private void loop(String alias, int seed) {
        int n = seed;
        while (!stopping) {
            String prompt = PROMPTS.get(n++ % PROMPTS.size());
            GenerateRequest r = RouterFixtures.request(prompt, maxTokens, deadline);
            long start = System.nanoTime();
            Sample s;
            try {
                RoutedCompletion c = router.submit(alias, r).get(deadline.toMillis() + 5_000, TimeUnit.MILLISECONDS);
                long end = System.nanoTime();
                s = new Sample(alias, start, end, true, c.degraded(), c.servedBy(), end - start <= deadline.toNanos(), "");
            } catch (Exception e) {
                long end = System.nanoTime();
                Throwable cause = e.getCause() == null ? e : e.getCause();
                s = new Sample(alias, start, end, false, false, "", false, cause.toString());
            }
            samples.add(s);
        }
    }

    /** Samples that started in [from, to). */
    List<Sample> between(long from, long to) {
        return samples.stream().filter(s -> s.startNanos() >= from && s.startNanos() < to).toList();
    }

    /** Samples that ended after {@code from}. */
    List<Sample> endedAfter(long from) {
        return samples.stream().filter(s -> s.endNanos() > from).toList();
    }

    @Override
    public void close() {
        stopping = true;
        try {
            for (Thread t : threads) {
                t.join(deadline.toMillis() + 10_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
