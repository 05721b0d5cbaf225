package dev.bulkhead.it;

import static dev.bulkhead.it.EngineFixtures.await;
import static dev.bulkhead.it.EngineFixtures.awaitIdle;
import static dev.bulkhead.it.EngineFixtures.greedy;
import static dev.bulkhead.it.EngineFixtures.options;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.model.ModelLoader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/** The engine's Micrometer meters report what happened, and disappear when the engine shuts down. */
class EngineMetricsTest {

    @Test
    void metersTrackRequestsTokensAndCacheAndAreRemovedOnClose() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        int[] prompt = new int[40];
        java.util.Arrays.fill(prompt, 300);
        prompt[0] = 1;
        try (LlmEngine engine = new LlmEngine("m1", ModelLoader.load(null), options(64), registry,
                dev.bulkhead.engine.internal.runner.ModelRunnerFactory.CPU)) {
            await(engine.generate(greedy("a", prompt, 10)));
            await(engine.generate(greedy("b", prompt, 10)));
            awaitIdle(engine);
            assertThat(registry.get("bulkhead.requests.finished").tag("model", "m1").tag("finish_reason", "length")
                    .counter().count()).isEqualTo(2);
            assertThat(registry.get("bulkhead.generation_tokens").counter().count()).isEqualTo(20);
            assertThat(registry.get("bulkhead.time_to_first_token").timer().count()).isEqualTo(2);
            assertThat(registry.get("bulkhead.time_per_output_token").timer().count()).isEqualTo(18);
            assertThat(registry.get("bulkhead.prefix_cache.hit_rate").gauge().value()).isPositive();
            assertThat(registry.get("bulkhead.requests.running").gauge().value()).isZero();
            assertThat(registry.get("bulkhead.kv_cache.usage").gauge().value()).isZero();
            assertThat(registry.get("vllm:num_requests_waiting").tag("model_name", "m1").gauge().value()).isZero();
        }
        assertThat(registry.getMeters()).noneMatch(m -> m.getId().getName().startsWith("bulkhead.")
                || m.getId().getName().startsWith("vllm:"));
    }
}
