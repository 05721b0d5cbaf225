package dev.bulkhead.router;

import static dev.bulkhead.router.RouterFixtures.await;
import static dev.bulkhead.router.RouterFixtures.model;
import static dev.bulkhead.router.RouterFixtures.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.engine.api.FinishReason;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** {@link Router#drain}: new requests are refused at once, those in flight run to their end. */
class RouterDrainTest {

    private static final Duration DEADLINE = Duration.ofSeconds(30);

    @Test
    void drainRefusesNewRequestsAndLetsThoseInFlightFinish() throws Exception {
        RouterConfig config = RouterConfig.of(List.of(model("a", RouterFixtures.stories())),
                new RoutingTable(1, Map.of("a", Route.to("a")))).withWatchdog(RouterFixtures.fastWatchdog());
        try (Router router = Router.builder().config(config).start()) {
            assertThat(await(Duration.ofSeconds(20), () -> router.health().allReady())).isTrue();
            // NOTE: drained right after admission: requests still waiting for a router thread count too.
            List<CompletableFuture<RoutedCompletion>> running = java.util.stream.IntStream.range(0, 4)
                    .mapToObj(i -> router.submit("a", request("Once upon a time", 100, DEADLINE))).toList();

            CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() -> router.drain(Duration.ofSeconds(30)));
            assertThat(await(Duration.ofSeconds(5), () -> router.submit("a", request("Once", 4, DEADLINE))
                    .isCompletedExceptionally())).as("a new request is refused while draining").isTrue();
            assertThatThrownBy(() -> router.submit("a", request("Once", 4, DEADLINE)).join())
                    .isInstanceOf(CompletionException.class).cause()
                    .isInstanceOfSatisfying(RouterRejectedException.class,
                            e -> assertThat(e.reason()).isEqualTo(RouterRejectedException.Reason.DRAINING));
            assertThatThrownBy(() -> router.stream("a", request("Once", 4, DEADLINE)).origin().join())
                    .cause().isInstanceOf(RouterRejectedException.class);

            assertThat(drained.get()).as("drained within the timeout").isTrue();
            for (CompletableFuture<RoutedCompletion> r : running) {
                assertThat(r).as("finished before drain returned").isDone();
                assertThat(r.join().completion().finishReason()).as("a request in flight is not cut")
                        .isIn(FinishReason.LENGTH, FinishReason.STOP);
            }
            assertThat(router.health("a").orElseThrow().inFlight()).isZero();
        }
    }

    @Test
    void drainReportsARequestStillRunningAtTheTimeout() throws Exception {
        RouterConfig config = RouterConfig.of(List.of(model("a", RouterFixtures.stories())),
                new RoutingTable(1, Map.of("a", Route.to("a")))).withWatchdog(RouterFixtures.fastWatchdog());
        try (Router router = Router.builder().config(config).start()) {
            assertThat(await(Duration.ofSeconds(20), () -> router.health().allReady())).isTrue();
            CompletableFuture<RoutedCompletion> running = router.submit("a", request("Once upon a time", 100, DEADLINE));
            assertThat(router.drain(Duration.ofMillis(1))).isFalse();
            assertThat(running.join().completion().finishReason()).as("drain aborts nothing; close does")
                    .isIn(FinishReason.LENGTH, FinishReason.STOP);
        }
    }
}
