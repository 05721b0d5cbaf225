package dev.bulkhead.router;

import static dev.bulkhead.router.RouterFixtures.await;
import static dev.bulkhead.router.RouterFixtures.model;
import static dev.bulkhead.router.RouterFixtures.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.engine.InvalidRequestException;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The router end to end over two tiny models: routing, fallbacks, breakers, admission, memory, restarts. */
class RouterTest {

    private static final Duration DEADLINE = Duration.ofSeconds(10);

    private static RouterConfig twoModels(ModelSpec a, ModelSpec b, Map<String, Route> routes) {
        return RouterConfig.of(List.of(a, b), new RoutingTable(1, routes)).withWatchdog(RouterFixtures.fastWatchdog())
                .withFaults(FaultSpec.enabled(30));
    }

    private static ModelSpec a() {
        return model("a", RouterFixtures.tinyCheckpoint("a", 1));
    }

    private static ModelSpec b() {
        return model("b", RouterFixtures.stories());
    }

    private static RouterRejectedException rejection(CompletableFuture<RoutedCompletion> f) {
        try {
            f.get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            Throwable c = e.getCause();
            assertThat(c).isInstanceOf(RouterRejectedException.class);
            return (RouterRejectedException) c;
        }
        throw new AssertionError("expected a rejection, got an answer");
    }

    @Test
    void servesByAliasAndSaysWhenAFallbackAnswered() {
        try (Router router = Router.start(twoModels(a(), b(), Map.of("chat", Route.to("a", "b", "cache"))))) {
            assertThat(router.health().allReady()).isTrue();
            RoutedCompletion ok = router.submit("chat", request("Once upon a time", 8, DEADLINE)).join();
            assertThat(ok.servedBy()).isEqualTo("a");
            assertThat(ok.degraded()).isFalse();
            assertThat(ok.completion().tokenIds()).hasSize(8);
            assertThat(router.submit("b", request("Once", 4, DEADLINE)).join().servedBy()).isEqualTo("b");

            router.faults().inject("a", Fault.STEP_EXCEPTION);
            RoutedCompletion fb = router.submit("chat", request("A new prompt", 8, DEADLINE)).join();
            assertThat(fb.servedBy()).isEqualTo("b");
            assertThat(fb.degraded()).isTrue();

            RouterRejectedException noRoute = rejection(router.submit("nowhere", request("x", 4, DEADLINE)));
            assertThat(noRoute.reason()).isEqualTo(RouterRejectedException.Reason.NO_ROUTE);
            assertThat(noRoute.retryAfter()).isZero();
            // Input no model accepts is the caller's error, not a fallback case.
            GenerateRequest outsideVocab = GenerateRequest.ofTokens(new int[] {1, 100_000}, SamplingParams.greedy(4));
            assertThatThrownBy(() -> router.submit("chat", outsideVocab).join())
                    .hasCauseInstanceOf(InvalidRequestException.class);
        }
    }

    @Test
    void aFailedModelIsAnsweredFromTheCacheOnlyForPromptsItAnsweredBefore() {
        try (Router router = Router.start(twoModels(a(), b(), Map.of("chat", Route.to("a", "cache"))))) {
            RoutedCompletion first = router.submit("chat", request("Once upon a time", 8, DEADLINE)).join();
            router.faults().inject("a", Fault.STEP_EXCEPTION);
            RoutedCompletion cached = router.submit("chat", request("Once upon a time", 8, DEADLINE)).join();
            assertThat(cached.servedBy()).isEqualTo(Route.CACHE);
            assertThat(cached.degraded()).isTrue();
            assertThat(cached.completion().tokenIds()).containsExactly(first.completion().tokenIds());
            RouterRejectedException miss = rejection(router.submit("chat", request("Never seen", 8, DEADLINE)));
            assertThat(miss.reason()).isEqualTo(RouterRejectedException.Reason.MODEL_UNAVAILABLE);
            assertThat(miss.retryAfter()).isPositive();
        }
    }

    @Test
    void breakerOpensOnFailuresCountsFallbackAttemptsAndClosesAfterTrialCalls() throws Exception {
        // NOTE: readiness probes are spaced out so that every call of this test reaches the breaker.
        ModelSpec a = a().withBreaker(new BreakerSpec(4, 4, 50, 0, 0, 300, 2)).withHealth(new HealthSpec(5_000, 60_000, 2_000));
        ModelSpec b = b().withBreaker(new BreakerSpec(4, 4, 50, 0, 0, 300, 2));
        try (Router router = Router.start(twoModels(a, b, Map.of("chat", Route.to("a", "b"), "other", Route.to("b", "a"))))) {
            router.faults().inject("a", Fault.STEP_EXCEPTION);
            for (int i = 0; i < 4; i++) {
                RoutedCompletion r = router.submit("chat", request("p" + i, 4, DEADLINE)).join();
                assertThat(r.servedBy()).isEqualTo("b");
                assertThat(r.attempts()).isEqualTo(2);
            }
            assertThat(router.health("a").orElseThrow().breakerState()).isEqualTo(CircuitBreaker.State.OPEN);
            assertThat(router.health("a").orElseThrow().status()).isEqualTo(HealthStatus.DEGRADED);
            // Open: a is skipped without an attempt.
            assertThat(router.submit("chat", request("p", 4, DEADLINE)).join().attempts()).isEqualTo(1);
            // Fallback attempts count too: b's successes were recorded by b's breaker, a's failures as fallback of
            // "other" are recorded by a's.
            assertThat(router.health("b").orElseThrow().breakerState()).isEqualTo(CircuitBreaker.State.CLOSED);

            router.faults().clear("a", Fault.STEP_EXCEPTION);
            Thread.sleep(350);
            RoutedCompletion trial = router.submit("chat", request("t1", 4, DEADLINE)).join();
            assertThat(trial.servedBy()).isEqualTo("a");
            assertThat(router.health("a").orElseThrow().breakerState()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
            router.submit("chat", request("t2", 4, DEADLINE)).join();
            assertThat(router.health("a").orElseThrow().breakerState()).isEqualTo(CircuitBreaker.State.CLOSED);
            assertThat(router.health("a").orElseThrow().status()).isEqualTo(HealthStatus.READY);
        }
    }

    @Test
    void aModelThatDoesNotFitFailsAloneWithTheNumbers() {
        ModelSpec tooBig = model("big", RouterFixtures.tinyCheckpoint("a", 1)).withMemoryBudget(100_000);
        RouterConfig config = twoModels(tooBig, b(), Map.of("chat", Route.to("big", "b")));
        try (Router router = Router.start(config)) {
            ModelHealth big = router.health("big").orElseThrow();
            assertThat(big.status()).isEqualTo(HealthStatus.DEAD);
            assertThat(big.reason()).contains("model big needs").contains("memoryBudgetBytes is 100000");
            assertThat(big.reservedBytes()).isZero();
            assertThat(router.health("b").orElseThrow().status()).isEqualTo(HealthStatus.READY);
            assertThat(router.health().healthy()).isTrue();
            RoutedCompletion r = router.submit("chat", request("Once", 4, DEADLINE)).join();
            assertThat(r.servedBy()).isEqualTo("b");
            assertThat(r.degraded()).isTrue();
        }
        long nodeForOne = 2L << 20;
        try (Router router = Router.start(twoModels(a(), b(), Map.of("chat", Route.to("a", "b"))).withNodeMemory(nodeForOne))) {
            assertThat(router.health("a").orElseThrow().status()).isEqualTo(HealthStatus.READY);
            assertThat(router.health("b").orElseThrow().reason()).contains("model b needs").contains("the node has");
            assertThat(router.memory().reservedByModel()).containsOnlyKeys("a");
        }
    }

    @Test
    void anOutOfMemoryAtLoadKillsOneModelUntilItClears() throws Exception {
        FaultSpec oom = new FaultSpec(true, 0, 0, Map.of("a", List.of(Fault.OUT_OF_MEMORY)));
        try (Router router = Router.start(twoModels(a(), b(), Map.of("chat", Route.to("a", "b"))).withFaults(oom))) {
            assertThat(router.health("a").orElseThrow().status()).isIn(HealthStatus.DEAD, HealthStatus.RESTARTING);
            assertThat(router.health("a").orElseThrow().reason()).contains("OutOfMemoryError");
            assertThat(router.health("b").orElseThrow().status()).isEqualTo(HealthStatus.READY);
            assertThat(router.submit("chat", request("Once", 4, DEADLINE)).join().servedBy()).isEqualTo("b");
            router.faults().clear("a", Fault.OUT_OF_MEMORY);
            assertThat(await(Duration.ofSeconds(10), () -> router.health("a").orElseThrow().status() == HealthStatus.READY))
                    .as("a recovers: %s", router.health("a")).isTrue();
            assertThat(router.submit("chat", request("Once", 4, DEADLINE)).join().servedBy()).isEqualTo("a");
        }
    }

    @Test
    void restartingOneModelNeverTouchesAnotherModelsMemoryOrQueue() throws Exception {
        try (Router router = Router.start(twoModels(a(), b(), Map.of("chat", Route.to("a"), "story", Route.to("b"))))) {
            router.faults().inject("b", Fault.SLOW_STEPS);
            long bMemory = router.memory().reservedByModel().get("b");
            long aMemory = router.memory().reservedByModel().get("a");
            List<CompletableFuture<RoutedCompletion>> inB = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                inB.add(router.submit("story", request("Once upon a time " + i, 12, DEADLINE)));
            }
            assertThat(await(Duration.ofSeconds(5), () -> router.health("b").orElseThrow().inFlight() == 6)).isTrue();
            int queued = router.health("b").orElseThrow().queued();

            router.restart("a", "drill");
            assertThat(router.health("b").orElseThrow().queued()).isEqualTo(queued);
            assertThat(router.memory().reservedByModel().get("b")).isEqualTo(bMemory);
            assertThat(await(Duration.ofSeconds(10), () -> router.health("a").orElseThrow().status() == HealthStatus.READY
                    && router.health("a").orElseThrow().generation() == 2)).isTrue();

            for (CompletableFuture<RoutedCompletion> f : inB) {
                RoutedCompletion r = f.get(30, TimeUnit.SECONDS);
                assertThat(r.servedBy()).isEqualTo("b");
                assertThat(r.degraded()).isFalse();
                assertThat(r.completion().tokenIds()).hasSize(12);
            }
            ModelHealth b = router.health("b").orElseThrow();
            assertThat(b.generation()).isEqualTo(1);
            assertThat(b.restarts()).isZero();
            assertThat(router.memory().reservedByModel()).containsEntry("b", bMemory).containsEntry("a", aMemory);
            router.faults().clear("b", Fault.SLOW_STEPS);
            assertThat(await(Duration.ofSeconds(5), () -> router.health().models().values().stream()
                    .allMatch(m -> m.kvBlocksInUse() == 0 && m.queued() == 0))).isTrue();
        }
    }

    @Test
    void aHungStepIsRestartedWhileItsTrafficFailsOver() throws Exception {
        try (Router router = Router.start(twoModels(a(), b(), Map.of("chat", Route.to("a", "b"))))) {
            long oneEngine = router.memory().reservedByModel().get("a");
            long bMemory = router.memory().reservedByModel().get("b");
            router.faults().inject("a", Fault.HUNG_STEP);
            RoutedCompletion r = router.submit("chat", request("Once", 4, Duration.ofSeconds(3))).join();
            assertThat(r.servedBy()).isEqualTo("b");
            assertThat(r.degraded()).isTrue();
            assertThat(await(Duration.ofSeconds(10), () -> router.health("a").orElseThrow().restarts() >= 1)).isTrue();
            assertThat(router.health("b").orElseThrow().status()).isEqualTo(HealthStatus.READY);
            assertThat(router.health("b").orElseThrow().restarts()).isZero();
            assertThat(router.memory().reservedByModel().get("b")).isEqualTo(bMemory);
            router.faults().clear("a", Fault.HUNG_STEP);
            assertThat(await(Duration.ofSeconds(10), () -> router.health("a").orElseThrow().status() == HealthStatus.READY))
                    .as("%s", router.health("a")).isTrue();
            // The hung engines were reaped: only the live engine's memory stays reserved.
            assertThat(await(Duration.ofSeconds(5), () -> router.memory().reservedByModel().get("a") == oneEngine))
                    .as("%s", router.memory()).isTrue();
            assertThat(router.submit("chat", request("Once", 4, DEADLINE)).join().servedBy()).isEqualTo("a");
        }
    }

    @Test
    void fullQueuesAndUnmeetableDeadlinesAreRejectedEarlyWithARetryHint() throws Exception {
        ModelSpec a = a().withQueue(new QueueLimits(1, 1, 1));
        try (Router router = Router.start(twoModels(a, b(), Map.of("chat", Route.to("a"))))) {
            router.faults().inject("a", Fault.SLOW_STEPS);
            CompletableFuture<RoutedCompletion> holding = router.submit("chat", request("one", 8, DEADLINE));
            assertThat(await(Duration.ofSeconds(5), () -> router.health("a").orElseThrow().queued() == 1)).isTrue();
            RouterRejectedException full = rejection(router.submit("chat", request("two", 8, DEADLINE)));
            assertThat(full.reason()).isEqualTo(RouterRejectedException.Reason.OVERLOADED);
            assertThat(full.retryAfter()).isPositive();
            // Another priority class has its own queue.
            assertThat(router.submit("chat", request("batch", 2, DEADLINE).withPriority(5)).get(30, TimeUnit.SECONDS)
                    .servedBy()).isEqualTo("a");
            holding.get(30, TimeUnit.SECONDS);

            // 30 ms steps: 16 tokens cannot finish in 100 ms; known from the estimate, rejected before queueing.
            CompletableFuture<RoutedCompletion> tooTight = router.submit("chat", request("tight", 16, Duration.ofMillis(100)));
            assertThat(tooTight).isCompletedExceptionally();
            RouterRejectedException late = rejection(tooTight);
            assertThat(late.reason()).isEqualTo(RouterRejectedException.Reason.DEADLINE_UNMEETABLE);
            assertThat(late.retryAfter()).isPositive();
        }
    }

    @Test
    void faultInjectionIsOffUnlessConfigured() {
        RouterConfig config = twoModels(a(), b(), Map.of("chat", Route.to("a"))).withFaults(FaultSpec.off());
        try (Router router = Router.start(config)) {
            assertThatThrownBy(() -> router.faults().inject("a", Fault.HUNG_STEP)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("faults.enabled: true");
            assertThat(router.health().allReady()).isTrue();
        }
    }

    @Test
    void rejectedUpdatesLeaveTheLastGoodTableServing() {
        try (Router router = Router.start(twoModels(a(), b(), Map.of("chat", Route.to("a", "b"))))) {
            TableUpdate bad = router.updateRoutingTable(new RoutingTable(2, Map.of("chat", Route.to("ghost"))));
            assertThat(bad.accepted()).isFalse();
            assertThat(bad.activeVersion()).isEqualTo(1);
            assertThat(bad.errors()).singleElement().asString().contains("'ghost', which is not loaded");
            router.faults().corruptRoutingUpdates(true);
            for (int i = 0; i < 4; i++) {
                assertThat(router.updateRoutingTable(new RoutingTable(2, Map.of("chat", Route.to("b")))).accepted()).isFalse();
                assertThat(router.submit("chat", request("Once", 4, DEADLINE)).join().servedBy()).isEqualTo("a");
            }
            router.faults().corruptRoutingUpdates(false);
            TableUpdate good = router.updateRoutingTable(new RoutingTable(2, Map.of("chat", Route.to("b"))));
            assertThat(good.accepted()).isTrue();
            assertThat(router.submit("chat", request("Once", 4, DEADLINE)).join().servedBy()).isEqualTo("b");
        }
    }
}
