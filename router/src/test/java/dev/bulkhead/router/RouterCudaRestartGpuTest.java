package dev.bulkhead.router;

import static dev.bulkhead.router.RouterFixtures.await;
import static dev.bulkhead.router.RouterFixtures.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.bulkhead.cuemu.CudaEmulator;
import dev.bulkhead.cuemu.EmulatorSeedReporter;
import dev.bulkhead.cuemu.GpuTarget;
import dev.bulkhead.engine.internal.cuda.CudaRunners;
import dev.bulkhead.engine.internal.runner.CpuRunnerOptions;
import dev.bulkhead.engine.internal.runner.ForwardingModelRunner;
import dev.bulkhead.engine.internal.runner.ModelRunner;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.model.arch.ModelWeights;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A model on the CUDA backend (the emulator in every build) whose context a sticky error poisons: its request
 * fails, its engine loop stops, the watchdog restarts it on a fresh context, and it serves again on CUDA.
 */
@Tag("gpu")
@ExtendWith(EmulatorSeedReporter.class)
class RouterCudaRestartGpuTest {

    private static final Duration DEADLINE = Duration.ofSeconds(30);

    private static long started;

    @BeforeAll
    static void target() {
        GpuTarget.requireEmulator(); // the faults are injected by the emulator
        started = System.nanoTime();
    }

    @AfterAll
    static void took() {
        System.out.printf("[cuda-emulator] RouterCudaRestartGpuTest took %.1f s%n", (System.nanoTime() - started) / 1e9);
    }

    @AfterEach
    void clearFaults() {
        if (CudaEmulator.isActive()) {
            CudaEmulator.configure("faults", "");
        }
    }

    /** The embedded stories260K on route "chat"; emulated steps are slow, so liveness allows 5 s and a probe 2 s. */
    private static RouterConfig config() {
        ModelSpec story = RouterFixtures.model("story", RouterFixtures.stories())
                .withHealth(new HealthSpec(5_000, 100, 2_000));
        return RouterConfig.of(List.of(story), new RoutingTable(1, Map.of("chat", Route.to("story"))))
                .withWatchdog(RouterFixtures.fastWatchdog());
    }

    @Test
    void aStickyErrorRestartsTheModelOnAFreshContextAndItServesAgain() throws Exception {
        try (Router router = Router.start(config(), CudaRunners.factory(0), new SimpleMeterRegistry())) {
            assertThat(router.health("story").orElseThrow().status()).as("%s", router.health())
                    .isEqualTo(HealthStatus.READY);
            RoutedCompletion first = router.submit("chat", request("Once upon a time", 16, DEADLINE))
                    .get(60, TimeUnit.SECONDS);
            assertThat(first.servedBy()).isEqualTo("story");
            ModelHealth before = router.health("story").orElseThrow();

            // A request long enough to be running when the fault lands: its prompt fills more than one 16-token
            // block, so 2 blocks in use means it runs (a readiness probe holds 1).
            String prompt = "Once upon a time there was a little girl named Lily who loved to play outside in the sun";
            CompletableFuture<RoutedCompletion> hit = router.submit("chat", request(prompt, 48, DEADLINE));
            assertThat(await(Duration.ofSeconds(30), () -> router.health("story").orElseThrow().kvBlocksInUse() >= 2))
                    .as("the long request runs").isTrue();
            long injected = CudaEmulator.stats().faultsInjected();
            CudaEmulator.configure("faults", "launch:bk_silu_mul:3");
            Throwable t = catchThrowable(() -> hit.get(60, TimeUnit.SECONDS));
            assertThat(t).as("the request on the poisoned context").isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(RouterRejectedException.class);
            System.out.println("[router cuda] the faulted request: " + t.getCause());
            assertThat(CudaEmulator.stats().faultsInjected()).isEqualTo(injected + 1);

            assertThat(await(Duration.ofSeconds(30), () -> {
                ModelHealth h = router.health("story").orElseThrow();
                return h.status() == HealthStatus.READY && h.generation() > before.generation();
            })).as("restarted and ready again: %s", router.health()).isTrue();
            ModelHealth after = router.health("story").orElseThrow();
            System.out.println("[router cuda] after the restart: " + after);
            assertThat(after.restarts()).isGreaterThan(before.restarts());

            long launches = CudaEmulator.stats().launches();
            RoutedCompletion again = router.submit("chat", request("Once upon a time", 16, DEADLINE))
                    .get(60, TimeUnit.SECONDS);
            assertThat(again.servedBy()).isEqualTo("story");
            assertThat(again.degraded()).isFalse();
            assertThat(again.completion().tokenIds()).as("greedy ids on the fresh context")
                    .containsExactly(first.completion().tokenIds());
            assertThat(CudaEmulator.stats().launches()).as("it ran on the CUDA path").isGreaterThan(launches);
        }
    }

    @Test
    void theRestartWaitsForTheOldEngineToReleaseThePoisonedContext() throws Exception {
        // Runners whose close takes a second: a slow teardown of the engine that lost its context. A new engine
        // built before it finished would retain the same, poisoned, primary context and fail to load.
        ModelRunnerFactory cuda = CudaRunners.factory(0);
        ModelRunnerFactory slowClose = new ModelRunnerFactory() {
            @Override
            public ModelRunner create(ModelWeights weights, CpuRunnerOptions options) {
                return new ForwardingModelRunner(cuda.create(weights, options)) {
                    @Override
                    public void close() {
                        try {
                            Thread.sleep(1_000);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        delegate.close();
                    }
                };
            }

            @Override
            public int kvBytesPerElement() {
                return cuda.kvBytesPerElement();
            }
        };
        try (Router router = Router.start(config(), slowClose, new SimpleMeterRegistry())) {
            assertThat(router.health("story").orElseThrow().status()).isEqualTo(HealthStatus.READY);
            CudaEmulator.configure("faults", "launch:bk_silu_mul:3");
            assertThat(catchThrowable(() -> router.submit("chat", request("Once upon a time", 16, DEADLINE))
                    .get(60, TimeUnit.SECONDS))).as("the faulted request").isNotNull();
            assertThat(await(Duration.ofSeconds(30), () -> router.health("story").orElseThrow().generation() == 2
                    && router.health("story").orElseThrow().status() == HealthStatus.READY))
                    .as("ready on a new engine: %s", router.health()).isTrue();
            ModelHealth h = router.health("story").orElseThrow();
            assertThat(h.restarts()).as("one restart, which loaded on the first try: %s", h).isEqualTo(1);
            RoutedCompletion again = router.submit("chat", request("Once upon a time", 8, DEADLINE))
                    .get(60, TimeUnit.SECONDS);
            assertThat(again.servedBy()).isEqualTo("story");
            assertThat(again.completion().tokenIds()).hasSize(8);
        }
    }
}
