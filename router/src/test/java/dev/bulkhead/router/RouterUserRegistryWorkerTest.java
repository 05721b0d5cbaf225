package dev.bulkhead.router;

import static dev.bulkhead.router.RouterFixtures.await;
import static dev.bulkhead.router.RouterFixtures.model;
import static dev.bulkhead.router.RouterFixtures.request;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A model in a worker process shows its engine meters in the registry given to the router, under the names and
 * tags an in-process model's have: live gauges, counts equal to what it generated, NaN gauges once its worker is
 * killed, and the same meters reading the restarted worker.
 */
class RouterUserRegistryWorkerTest {

    private static final Duration DEADLINE = Duration.ofSeconds(20);
    // NOTE: the cache asks a worker at most once a second, so a new count shows within about a second.
    private static final Duration SHOWS = Duration.ofSeconds(5);

    private static double counter(SimpleMeterRegistry r, String name, String... tags) {
        FunctionCounter c = r.find(name).tags(tags).functionCounter();
        return c == null ? -1 : c.count();
    }

    private static double tokens(SimpleMeterRegistry r) {
        return counter(r, "bulkhead.generation_tokens", "model", "w");
    }

    private static double gauge(SimpleMeterRegistry r, String name, String... tags) {
        Gauge g = r.find(name).tags(tags).gauge();
        assertThat(g).as("gauge %s", name).isNotNull();
        return g.value();
    }

    /** Each meter of a model as name, type and tags, the model's name replaced by "m". */
    private static Set<String> shapeOf(SimpleMeterRegistry r, String model) {
        return r.getMeters().stream().map(Meter::getId)
                .filter(id -> model.equals(id.getTag("model")) || model.equals(id.getTag("model_name")))
                .filter(id -> !id.getName().startsWith("bulkhead.worker."))
                .map(id -> id.getName() + " " + id.getType() + " " + id.getTags().stream()
                        .map(t -> t.getKey() + "=" + (t.getValue().equals(model) ? "m" : t.getValue()))
                        .collect(Collectors.joining(",")))
                .collect(Collectors.toSet());
    }

    private static RouterConfig config() {
        // NOTE: a readiness probe (one token) a second, so that counts move by at most a probe or two besides ours;
        // steps of 30 ms, so that a request of 100 tokens runs for 3 s, long enough to be seen running.
        HealthSpec rareProbes = new HealthSpec(5_000, 1_000, 5_000);
        ModelSpec local = model("local", RouterFixtures.stories()).withHealth(rareProbes)
                .withIsolation(Isolation.IN_PROCESS);
        ModelSpec worker = model("w", RouterFixtures.stories()).withHealth(rareProbes).withIsolation(Isolation.PROCESS);
        return RouterConfig.of(List.of(local, worker),
                        new RoutingTable(1, Map.of("local", Route.to("local"), "w", Route.to("w"))))
                .withWatchdog(RouterFixtures.fastWatchdog())
                .withFaults(new FaultSpec(true, 30, 0, Map.of("w", List.of(Fault.SLOW_STEPS))));
    }

    @Test
    @Timeout(90)
    void aWorkerModelsEngineMetersAreInTheUsersRegistryAndFollowItsRestart() throws Exception {
        SimpleMeterRegistry user = new SimpleMeterRegistry();
        try (Router router = Router.builder().config(config()).meterRegistry(user).start()) {
            assertThat(await(DEADLINE, () -> router.health().allReady())).as("%s", router.health()).isTrue();
            Set<String> shape = shapeOf(user, "w");
            assertThat(shape).as("the same meters, names and tags as an in-process model's")
                    .isEqualTo(shapeOf(user, "local")).hasSizeGreaterThanOrEqualTo(20);
            for (String[] g : List.of(new String[] {"vllm:num_requests_running", "model_name"},
                    new String[] {"vllm:num_requests_waiting", "model_name"},
                    new String[] {"vllm:kv_cache_usage_perc", "model_name"},
                    new String[] {"bulkhead.requests.running", "model"},
                    new String[] {"bulkhead.requests.waiting", "model"},
                    new String[] {"bulkhead.kv_cache.usage", "model"})) {
                assertThat(gauge(user, g[0], g[1], "w")).as("%s while idle", g[0]).isBetween(0.0, 1.0);
            }
            assertThat(counter(user, "bulkhead.preemptions", "model", "w")).isZero();

            assertThat(await(SHOWS, () -> tokens(user) >= 1)).as("the readiness probes' tokens").isTrue();
            // NOTE: a reading may be up to a second old, so a baseline can miss a probe's token or two.
            double before = tokens(user);
            double lengthBefore = counter(user, "bulkhead.requests.finished", "model", "w", "finish_reason", "length");
            router.submit("w", request("Once upon a time", 8, DEADLINE)).join();
            assertThat(await(SHOWS, () -> tokens(user) >= before + 8)).as("8 more tokens, now %s", tokens(user))
                    .isTrue();
            assertThat(tokens(user)).as("ours and at most a few probes'").isBetween(before + 8, before + 12);
            assertThat(counter(user, "bulkhead.requests.finished", "model", "w", "finish_reason", "length"))
                    .isBetween(lengthBefore + 1, lengthBefore + 5);
            assertThat(user.find("bulkhead.time_to_first_token").tag("model", "w").functionTimer().count())
                    .as("one first token per finished request").isGreaterThanOrEqualTo((long) lengthBefore + 1);

            // A request of 100 steps of 30 ms: the worker's gauges show it running and its KV blocks in use. NOTE: a
            // long deadline, since the router's latency estimate of a young worker (its cold first probes) is far
            // above 3 s and would refuse the request as unmeetable.
            CompletableFuture<RoutedCompletion> longOne = router.submit("w",
                    request("Once upon a time", 100, Duration.ofMinutes(5)));
            // NOTE: at least 1: a readiness probe may run beside it.
            assertThat(await(SHOWS, () -> gauge(user, "vllm:num_requests_running", "model_name", "w") >= 1))
                    .as("seen running").isTrue();
            assertThat(gauge(user, "bulkhead.requests.running", "model", "w")).isBetween(1.0, 2.0);
            assertThat(gauge(user, "vllm:kv_cache_usage_perc", "model_name", "w")).isGreaterThan(0);
            longOne.join();

            // Killed: its gauges are unknown until a new worker serves, then the same meters read the new worker.
            ModelHealth h = router.health("w").orElseThrow();
            ProcessHandle.of(h.worker().pid()).orElseThrow().destroyForcibly();
            assertThat(await(SHOWS, () -> Double.isNaN(gauge(user, "vllm:num_requests_running", "model_name", "w"))))
                    .as("NaN once the worker is gone").isTrue();
            assertThat(await(DEADLINE, () -> {
                ModelHealth now = router.health("w").orElseThrow();
                return now.ready() && now.generation() > h.generation();
            })).as("restarted: %s", router.health()).isTrue();
            assertThat(await(SHOWS, () -> tokens(user) >= 1 && tokens(user) < before + 8))
                    .as("the new worker's own count, now %s", tokens(user)).isTrue();
            double afterRestart = tokens(user);
            assertThat(gauge(user, "vllm:num_requests_running", "model_name", "w")).as("known again").isBetween(0.0, 1.0);
            router.submit("w", request("Once upon a time", 3, DEADLINE)).join();
            assertThat(await(SHOWS, () -> tokens(user) >= afterRestart + 3)).isTrue();
            assertThat(tokens(user)).isBetween(afterRestart + 3, afterRestart + 7);
            assertThat(shapeOf(user, "w")).as("one set of meters per model, not one per worker").isEqualTo(shape);
        }
        assertThat(user.getMeters().stream().map(Meter::getId)
                .filter(id -> id.getTags().contains(Tag.of("model", "w")) || "w".equals(id.getTag("model_name")))
                .filter(id -> !id.getName().startsWith("bulkhead.worker.")))
                .as("removed when the router closes").isEmpty();
    }

    @Test
    @Timeout(60)
    void aCallerThatMergesWorkerTextItselfCanLeaveThemOut() throws Exception {
        SimpleMeterRegistry user = new SimpleMeterRegistry();
        ModelSpec worker = model("w", RouterFixtures.stories()).withIsolation(Isolation.PROCESS);
        RouterConfig config = RouterConfig.of(List.of(worker), new RoutingTable(1, Map.of("w", Route.to("w"))));
        try (Router router = Router.builder().config(config).meterRegistry(user).workerEngineMeters(false).start()) {
            assertThat(await(DEADLINE, () -> router.health().allReady())).isTrue();
            assertThat(user.find("vllm:num_requests_running").meter()).isNull();
            assertThat(user.find("bulkhead.generation_tokens").meter()).isNull();
            assertThat(user.find("bulkhead.worker.up").tag("model", "w").gauge().value()).isEqualTo(1);
            assertThat(router.workerMetrics(Duration.ofSeconds(5)).get("w"))
                    .contains("bulkhead_generation_tokens_total{model=\"w\"}");
        }
    }
}
