package dev.bulkhead.router;

import static dev.bulkhead.router.RouterFixtures.await;
import static dev.bulkhead.router.RouterFixtures.model;
import static dev.bulkhead.router.RouterFixtures.request;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every in-process model's engine metrics reach the registry given to the router, tagged by model, across restarts. */
class RouterUserRegistryTest {

    private static final Duration DEADLINE = Duration.ofSeconds(10);

    private static double tokens(SimpleMeterRegistry r, String model) {
        FunctionCounter c = r.find("bulkhead.generation_tokens").tag("model", model).functionCounter();
        return c == null ? -1 : c.count();
    }

    private static long metersOf(SimpleMeterRegistry r, String model) {
        return r.getMeters().stream().map(Meter::getId)
                .filter(id -> model.equals(id.getTag("model")) || model.equals(id.getTag("model_name"))).count();
    }

    @Test
    void engineMetersOfEveryModelAreInTheUsersRegistryAndFollowRestarts() throws Exception {
        SimpleMeterRegistry user = new SimpleMeterRegistry();
        // NOTE: a readiness probe (one token) a second, so that counts move by at most a probe or two besides ours.
        HealthSpec rareProbes = new HealthSpec(5_000, 1_000, 5_000);
        RouterConfig config = RouterConfig.of(List.of(model("a", RouterFixtures.stories()).withHealth(rareProbes),
                        model("b", RouterFixtures.tinyCheckpoint("b", 1)).withHealth(rareProbes)),
                new RoutingTable(1, Map.of("a", Route.to("a"), "b", Route.to("b")))).withWatchdog(RouterFixtures.fastWatchdog());
        try (Router router = Router.builder().config(config).meterRegistry(user).start()) {
            assertThat(await(Duration.ofSeconds(20), () -> router.health().allReady())).isTrue();
            for (String m : List.of("a", "b")) {
                assertThat(metersOf(user, m)).as("meters of %s in the user's registry", m).isGreaterThanOrEqualTo(20);
                assertThat(user.find("vllm:num_requests_running").tag("model_name", m).gauge()).isNotNull();
                assertThat(user.find("bulkhead.time_to_first_token").tag("model", m).meter()).isNotNull();
            }
            double before = tokens(user, "a");
            router.submit("a", request("Once upon a time", 8, DEADLINE)).join();
            assertThat(tokens(user, "a")).as("a's tokens after 8 more").isBetween(before + 8, before + 10);
            double bBefore = tokens(user, "b");
            router.submit("b", request("Once", 5, DEADLINE)).join();
            assertThat(tokens(user, "b")).isBetween(bBefore + 5, bBefore + 7);

            // A restart replaces a's engine: the same meters now read the new engine, whose count starts at 0.
            int generation = router.health("a").orElseThrow().generation();
            router.restart("a", "test");
            assertThat(await(Duration.ofSeconds(20), () -> router.health("a").orElseThrow().generation() > generation
                    && router.health("a").orElseThrow().ready())).isTrue();
            double afterRestart = tokens(user, "a");
            assertThat(afterRestart).as("a's count restarted with its engine").isLessThan(before + 8);
            router.submit("a", request("Once upon a time", 3, DEADLINE)).join();
            assertThat(tokens(user, "a")).isBetween(afterRestart + 3, afterRestart + 5);
            assertThat(metersOf(user, "a")).as("one set of meters per model, not one per engine").isEqualTo(metersOf(user, "b"));
        }
        assertThat(metersOf(user, "a") + metersOf(user, "b")).as("removed when the router closes").isZero();
    }
}
