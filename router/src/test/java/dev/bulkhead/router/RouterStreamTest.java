package dev.bulkhead.router;

import static dev.bulkhead.router.RouterFixtures.await;
import static dev.bulkhead.router.RouterFixtures.model;
import static dev.bulkhead.router.RouterFixtures.request;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.TokenDelta;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link Router#stream}: token by token, failover before the first token, and cancellation that frees the KV. */
class RouterStreamTest {

    private static final Duration DEADLINE = Duration.ofSeconds(10);

    private static RouterConfig twoModels() {
        return twoModels(model("a", RouterFixtures.tinyCheckpoint("a", 1)));
    }

    private static RouterConfig twoModels(ModelSpec a) {
        return RouterConfig.of(List.of(a, model("b", RouterFixtures.stories())),
                        new RoutingTable(1, Map.of("chat", Route.to("a", "b"))))
                .withWatchdog(RouterFixtures.fastWatchdog()).withFaults(FaultSpec.enabled(30));
    }

    /** Collects every delta's text; requests one at a time, and cancels after {@code cancelAfter} deltas. */
    private static final class Collector implements Flow.Subscriber<TokenDelta> {

        final StringBuilder text = new StringBuilder();
        final AtomicInteger deltas = new AtomicInteger();
        final CompletableFuture<Void> done = new CompletableFuture<>();
        private final int cancelAfter;
        private Flow.Subscription subscription;

        Collector(int cancelAfter) {
            this.cancelAfter = cancelAfter;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(1);
        }

        @Override
        public void onNext(TokenDelta d) {
            text.append(d.text());
            if (deltas.incrementAndGet() == cancelAfter) {
                subscription.cancel();
                done.complete(null);
                return;
            }
            subscription.request(1);
        }

        @Override
        public void onError(Throwable t) {
            done.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            done.complete(null);
        }
    }

    @Test
    void streamedDeltasAddUpToTheRoutedCompletion() throws Exception {
        try (Router router = Router.start(twoModels())) {
            Completion whole = router.submit("chat", request("Once upon a time", 8, DEADLINE)).join().completion();

            RoutedStream rs = router.stream("chat", request("Once upon a time", 8, DEADLINE));
            Collector c = new Collector(Integer.MAX_VALUE);
            rs.tokens().subscribe(c);
            c.done.get(30, TimeUnit.SECONDS);
            RoutedOrigin origin = rs.origin().get(1, TimeUnit.SECONDS);
            assertThat(origin.servedBy()).isEqualTo("a");
            assertThat(origin.degraded()).isFalse();
            assertThat(c.deltas.get()).isEqualTo(8);
            assertThat(c.text.toString()).isEqualTo(whole.text());
            assertThat(rs.tokens().completion().get(1, TimeUnit.SECONDS).text()).isEqualTo(whole.text());
        }
    }

    @Test
    void aFailingPrimaryIsPassedOverBeforeTheFirstToken() throws Exception {
        // NOTE: 'a' is probed for readiness once, at start, and not again for a minute. With the fixtures' probe
        // every 200 ms, a probe could hit the injected fault first (seen once under load) and mark 'a' not
        // ready, so the stream skipped it without an attempt and this test saw one attempt instead of two.
        ModelSpec a = model("a", RouterFixtures.tinyCheckpoint("a", 1)).withHealth(new HealthSpec(1_000, 60_000, 500));
        try (Router router = Router.start(twoModels(a))) {
            router.faults().inject("a", Fault.STEP_EXCEPTION);
            RoutedStream rs = router.stream("chat", request("Once upon a time", 8, DEADLINE));
            Collector c = new Collector(Integer.MAX_VALUE);
            rs.tokens().subscribe(c);
            c.done.get(30, TimeUnit.SECONDS);
            RoutedOrigin origin = rs.origin().get(1, TimeUnit.SECONDS);
            assertThat(origin.servedBy()).isEqualTo("b");
            assertThat(origin.degraded()).isTrue();
            assertThat(origin.attempts()).isEqualTo(2);
            assertThat(c.deltas.get()).isEqualTo(8);
            assertThat(rs.tokens().completion().get(1, TimeUnit.SECONDS).tokenIds()).hasSize(8);
        }
    }

    @Test
    void cancellingTheSubscriptionAbortsTheRequest() throws Exception {
        try (Router router = Router.start(twoModels(), RouterFixtures.withStepFloor(20), new SimpleMeterRegistry())) {
            // 100 tokens at >= 20 ms a step take over 2 s; an abort frees everything well before that.
            RoutedStream rs = router.stream("chat", request("Once upon a time", 100, DEADLINE));
            Collector c = new Collector(2);
            rs.tokens().subscribe(c);
            c.done.get(30, TimeUnit.SECONDS);
            assertThat(await(Duration.ofMillis(1_500), () -> router.health().models().values().stream()
                    .allMatch(m -> m.kvBlocksInUse() == 0 && m.inFlight() == 0 && m.queued() == 0))).isTrue();
            assertThat(rs.tokens().completion()).isCancelled();
        }
    }
}
