package dev.bulkhead.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.model.embedded.EmbeddedModel;
import dev.bulkhead.router.Router;
import dev.bulkhead.engine.api.FinishReason;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.autoconfigure.contributor.HealthContributorAutoConfiguration;
import org.springframework.boot.health.autoconfigure.registry.HealthContributorRegistryAutoConfiguration;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.health.registry.HealthContributorRegistry;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The starter in Boot application contexts on the embedded model, with Boot's own metrics and health
 * auto-configuration (and the versions of Jackson, Micrometer and SnakeYAML that Boot 4.0.7 manages).
 */
class BulkheadAutoConfigurationTest {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class,
                    CompositeMeterRegistryAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class,
                    HealthContributorAutoConfiguration.class, HealthContributorRegistryAutoConfiguration.class,
                    BulkheadAutoConfiguration.class))
            .withPropertyValues("bulkhead.threads=1", "bulkhead.kv-cache-size=4MB");

    /** The engine registers a Counter, the router's bridge a FunctionCounter: read either. */
    private static double tokens(MeterRegistry r, String model) {
        Meter m = r.find("bulkhead.generation_tokens").tag("model", model).meter();
        return m == null ? -1 : m.measure().iterator().next().getValue();
    }

    private static long metersOf(MeterRegistry r, String model) {
        return r.getMeters().stream().map(Meter::getId)
                .filter(id -> model.equals(id.getTag("model")) || model.equals(id.getTag("model_name"))).count();
    }

    private static Status health(HealthContributorRegistry registry, String model) {
        CompositeHealthContributor bulkhead = (CompositeHealthContributor) registry.getContributor("bulkhead");
        return ((HealthIndicator) bulkhead.getContributor(model)).health().getStatus();
    }

    @Test
    void anEngineBeanReportsToTheApplicationsRegistryAndHealth() {
        runner.run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(LlmEngine.class).doesNotHaveBean(Router.class);
            LlmEngine engine = context.getBean(LlmEngine.class);
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            assertThat(engine.name()).isEqualTo(EmbeddedModel.NAME);

            assertThat(metersOf(registry, EmbeddedModel.NAME)).as("engine meters in the app's registry")
                    .isGreaterThanOrEqualTo(20);
            assertThat(registry.find("vllm:num_requests_running").tag("model_name", EmbeddedModel.NAME).gauge())
                    .isNotNull();
            double before = tokens(registry, EmbeddedModel.NAME);
            Completion c = engine.generate(GenerateRequest.of("Once upon a time", SamplingParams.greedy(8))).join();
            assertThat(c.tokenIds()).hasSize(8);
            assertThat(tokens(registry, EmbeddedModel.NAME)).isEqualTo(before + 8);

            HealthContributorRegistry health = context.getBean(HealthContributorRegistry.class);
            assertThat(health(health, EmbeddedModel.NAME)).isEqualTo(Status.UP);
            engine.shutdown(java.time.Duration.ZERO);
            assertThat(health(health, EmbeddedModel.NAME)).as("a stopped engine").isEqualTo(Status.DOWN);
        });
    }

    @Test
    void aKvCacheSizeOfZeroIsSizedAutomatically() {
        runner.withPropertyValues("bulkhead.kv-cache-size=0", "bulkhead.max-running=8", "bulkhead.max-model-len=256")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    // 8 requests at the full 256-token context (the heap of a test JVM allows it).
                    assertThat(context.getBean(LlmEngine.class).kvCapacityTokens()).isEqualTo(8 * 256);
                });
        runner.run(context -> assertThat(context.getBean(LlmEngine.class).kvCapacityTokens())
                .as("4MB as set").isEqualTo((int) ((4L << 20) / (16 * 1280) - 1) * 16));
    }

    @Test
    void shutdownLetsRequestsInFlightFinish() {
        CompletableFuture<Completion> longOne = new CompletableFuture<>();
        runner.run(context -> {
            LlmEngine engine = context.getBean(LlmEngine.class);
            engine.generate(GenerateRequest.of("Once upon a time", SamplingParams.greedy(300).toBuilder()
                    .ignoreEos(true).build())).whenComplete((c, e) -> {
                        if (e != null) {
                            longOne.completeExceptionally(e);
                        } else {
                            longOne.complete(c);
                        }
                    });
        });
        // The runner closed the context: the lifecycle drained before the engine was released.
        Completion c = longOne.join();
        assertThat(c.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(c.tokenIds()).hasSize(300);
    }

    @Test
    void shutdownAbortsWhatOutlastsTheDrainTimeout() {
        CompletableFuture<Completion> longOne = new CompletableFuture<>();
        LlmEngine[] engine = new LlmEngine[1];
        runner.withPropertyValues("bulkhead.drain-timeout=20ms").run(context -> {
            engine[0] = context.getBean(LlmEngine.class);
            engine[0].generate(GenerateRequest.of("Once upon a time", SamplingParams.greedy(480).toBuilder()
                    .ignoreEos(true).build())).whenComplete((c, e) -> longOne.complete(c));
        });
        assertThat(longOne.join().finishReason()).isEqualTo(FinishReason.ABORT);
        assertThat(engine[0].isRunning()).isFalse();
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnEngine {
        @Bean
        LlmEngine myEngine() {
            return new LlmEngine("mine", dev.bulkhead.model.ModelLoader.load(null),
                    dev.bulkhead.engine.EngineOptions.defaults().withThreads(1).withKvCacheBytes(4L << 20),
                    new SimpleMeterRegistry(), dev.bulkhead.engine.internal.runner.ModelRunnerFactory.CPU);
        }
    }

    @Test
    void theApplicationsOwnEngineReplacesTheStartersAndGetsItsHealthEntry() {
        LlmEngine[] engine = new LlmEngine[1];
        runner.withUserConfiguration(OwnEngine.class).run(context -> {
            assertThat(context).hasSingleBean(LlmEngine.class).hasBean("myEngine").doesNotHaveBean("bulkheadEngine");
            engine[0] = context.getBean(LlmEngine.class);
            assertThat(health(context.getBean(HealthContributorRegistry.class), "mine")).isEqualTo(Status.UP);
        });
        assertThat(engine[0].isRunning()).as("stopped with the context").isFalse();
    }

    @Test
    void aRouterConfigFileGivesARouterWithAHealthEntryAndMetersPerModel(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("router.yaml");
        Files.writeString(config, """
                models:
                  - name: tiny-a
                    source: stories260K
                    engine: {threads: 1, kvCacheBytes: 4194304, maxModelLen: 512}
                  - name: tiny-b
                    source: stories260K
                    engine: {threads: 1, kvCacheBytes: 4194304, maxModelLen: 512}
                routing:
                  version: 1
                  routes:
                    story: {targets: [{model: tiny-a}], fallbacks: [tiny-b]}
                """);
        CompletableFuture<Completion> inFlight = new CompletableFuture<>();
        runner.withPropertyValues("bulkhead.router-config=" + config).run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(Router.class).doesNotHaveBean(LlmEngine.class);
            Router router = context.getBean(Router.class);
            MeterRegistry registry = context.getBean(MeterRegistry.class);
            router.submit("story", GenerateRequest.of("Once", SamplingParams.greedy(4))).join();
            for (String m : new String[] {"tiny-a", "tiny-b"}) {
                assertThat(metersOf(registry, m)).as("meters of %s", m).isGreaterThanOrEqualTo(20);
                assertThat(health(context.getBean(HealthContributorRegistry.class), m)).isEqualTo(Status.UP);
            }
            assertThat(tokens(registry, "tiny-a")).isGreaterThanOrEqualTo(4);
            // NOTE: a deadline of its own: the router's default (30 s) is below its first estimate for 300 tokens.
            router.submit("story", GenerateRequest.of("Once upon a time", SamplingParams.greedy(300).toBuilder()
                    .ignoreEos(true).build()).withDeadline(java.time.Instant.now().plusSeconds(120)))
                    .whenComplete((r, e) -> {
                        if (e != null) {
                            inFlight.completeExceptionally(e);
                        } else {
                            inFlight.complete(r.completion());
                        }
                    });
        });
        // The context closed with that request in flight: the router drained before it stopped its engines.
        assertThat(inFlight.join().finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(inFlight.join().tokenIds()).hasSize(300);
    }
}
