package dev.bulkhead.it;

import static dev.bulkhead.it.EngineFixtures.await;
import static dev.bulkhead.it.EngineFixtures.awaitIdle;
import static dev.bulkhead.it.EngineFixtures.greedy;
import static dev.bulkhead.it.EngineFixtures.randomPrompt;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.it.EngineFixtures.Backend;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/**
 * The engine's must-shows on the CPU: batch invariance of greedy ids, prefix-cache reuse with identical
 * outputs, and preemption by recompute with identical outputs. {@link ContinuousBatchingGpuTest} runs the same
 * bodies on the CUDA backend.
 */
class ContinuousBatchingTest {

    /** The backend these tests run on (a subclass runs them on another). */
    Backend backend() {
        return Backend.CPU;
    }

    /** Each request's greedy ids when it runs alone on a fresh engine with a large pool. */
    private Map<String, int[]> alone(Map<String, GenerateRequest> requests) {
        Map<String, int[]> out = new LinkedHashMap<>();
        try (LlmEngine engine = backend().engine(backend().options(256).withPrefixCaching(false))) {
            for (GenerateRequest r : requests.values()) {
                out.put(r.requestId(), await(engine.generate(r)).tokenIds());
            }
        }
        return out;
    }

    @Test
    void thirtyTwoConcurrentRequestsMatchTheirSoloRuns() throws Exception {
        Backend b = backend();
        int maxPrompt = b.scaled(60, 2);
        int maxOutput = b.scaled(48, 2);
        SplittableRandom rnd = new SplittableRandom(20261125);
        Map<String, GenerateRequest> requests = new LinkedHashMap<>();
        for (int i = 0; i < 32; i++) {
            requests.put("r" + i, greedy("r" + i, randomPrompt(rnd, 1, maxPrompt), rnd.nextInt(1, maxOutput)));
        }
        Map<String, int[]> expected = alone(requests);
        List<CompletableFuture<Completion>> futures = new ArrayList<>();
        try (LlmEngine engine = b.engine(b.options(256))) {
            for (GenerateRequest r : requests.values()) {
                futures.add(engine.generate(r));
                Thread.sleep(rnd.nextInt(0, 6)); // random arrival times: requests join a running batch
            }
            for (CompletableFuture<Completion> f : futures) {
                Completion c = await(f);
                assertThat(c.tokenIds()).as(c.requestId()).containsExactly(expected.get(c.requestId()));
            }
            awaitIdle(engine);
            assertThat(engine.stats().kv().numInUse()).isZero();
            assertThat(engine.stats().steps()).isLessThan(32L * maxOutput); // they really ran together
        }
    }

    @Test
    void submittedFromManyVirtualThreadsAtOnce() throws Exception {
        Backend b = backend();
        SplittableRandom rnd = new SplittableRandom(7);
        Map<String, GenerateRequest> requests = new LinkedHashMap<>();
        for (int i = 0; i < b.scaled(24, 8); i++) {
            requests.put("v" + i, greedy("v" + i, randomPrompt(rnd, 2, b.scaled(30, 2)),
                    rnd.nextInt(4, b.scaled(24, 5))));
        }
        Map<String, int[]> expected = alone(requests);
        try (LlmEngine engine = b.engine(b.options(256));
             var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<CompletableFuture<Completion>> futures = new ArrayList<>();
            for (GenerateRequest r : requests.values()) {
                futures.add(CompletableFuture.supplyAsync(() -> engine.generate(r).join(), threads));
            }
            for (CompletableFuture<Completion> f : futures) {
                Completion c = f.join();
                assertThat(c.tokenIds()).containsExactly(expected.get(c.requestId()));
            }
        }
    }

    @Test
    void sharedPrefixReusesCachedBlocksWithIdenticalOutput() throws Exception {
        SplittableRandom rnd = new SplittableRandom(42);
        int[] shared = randomPrompt(rnd, 70, 70);
        int[] first = shared.clone();
        int[] second = java.util.Arrays.copyOf(shared, 90);
        for (int i = 70; i < 90; i++) {
            second[i] = rnd.nextInt(3, 512);
        }
        Map<String, GenerateRequest> requests = new LinkedHashMap<>();
        requests.put("a", greedy("a", first, 20));
        requests.put("b", greedy("b", second, 20));
        Map<String, int[]> expected = alone(requests);
        try (LlmEngine engine = backend().engine(backend().options(256))) {
            assertThat(await(engine.generate(requests.get("a"))).tokenIds()).containsExactly(expected.get("a"));
            long hitsBefore = engine.stats().kv().hitTokens();
            assertThat(await(engine.generate(requests.get("b"))).tokenIds()).containsExactly(expected.get("b"));
            awaitIdle(engine);
            // 70 shared tokens = 4 full 16-token blocks reused.
            assertThat(engine.stats().kv().hitTokens() - hitsBefore).isGreaterThanOrEqualTo(64);
            assertThat(engine.stats().prefixCacheHitRate()).isPositive();
        }
    }

    @Test
    void poolTooSmallForAllPreemptsAndStillMatchesSoloRuns() throws Exception {
        Backend b = backend();
        SplittableRandom rnd = new SplittableRandom(99);
        Map<String, GenerateRequest> requests = new LinkedHashMap<>();
        for (int i = 0; i < 10; i++) {
            requests.put("p" + i, greedy("p" + i, randomPrompt(rnd, b.scaled(20, 2), b.scaled(40, 2)),
                    rnd.nextInt(b.scaled(30, 2), b.scaled(60, 3))));
        }
        Map<String, int[]> expected = alone(requests);
        // 16 blocks of 16 tokens on the CPU: two or three of these requests fit at once, ten arrive together
        // (a shrunk workload gets a pool shrunk alike).
        try (LlmEngine engine = b.engine(b.options(b.scaled(16, 4)).withMaxModelLen(b.scaled(128, 48)))) {
            List<CompletableFuture<Completion>> futures = requests.values().stream().map(engine::generate).toList();
            for (CompletableFuture<Completion> f : futures) {
                Completion c = await(f);
                assertThat(c.tokenIds()).as(c.requestId()).containsExactly(expected.get(c.requestId()));
            }
            awaitIdle(engine);
            assertThat(engine.stats().numPreemptions()).isPositive();
            assertThat(engine.stats().kv().numInUse()).isZero();
        }
    }
}
