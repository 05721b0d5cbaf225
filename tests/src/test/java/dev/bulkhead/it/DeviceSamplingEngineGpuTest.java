package dev.bulkhead.it;

import static dev.bulkhead.it.EngineFixtures.await;
import static dev.bulkhead.it.EngineFixtures.awaitIdle;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.cuemu.EmulatorSeedReporter;
import dev.bulkhead.cuemu.GpuTarget;
import dev.bulkhead.cuemu.OnGpuTarget;
import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.GuidedDecoding;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.internal.cuda.CudaModelRunner.DecodeSteps;
import dev.bulkhead.engine.internal.cuda.CudaRunners;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.model.ModelLoader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The engine on the CUDA backend sampling on the device ({@code bk_sample_rows}; only ids come back) against the
 * same backend sampling every row on the host: greedy requests with penalties produce the same tokens, batched
 * with a guided request and one asking for log-probabilities, which the host samples from returned logits; seeded
 * sampled requests repeat exactly.
 */
@Tag("gpu")
@ExtendWith({OnGpuTarget.class, EmulatorSeedReporter.class})
class DeviceSamplingEngineGpuTest {

    private static final EngineOptions OPTIONS = EngineFixtures.options(32, 2).withMaxRunning(8);

    private static GenerateRequest request(String id, int[] prompt, SamplingParams p) {
        return GenerateRequest.ofTokens(prompt, p).withRequestId(id);
    }

    private static List<GenerateRequest> mixedBatch(int maxTokens) {
        SamplingParams greedy = SamplingParams.greedy(maxTokens).toBuilder().ignoreEos(true).build();
        int[] story = {1, 403, 407, 261, 378};
        return List.of(
                request("plain", story, greedy),
                request("repetition", story, greedy.toBuilder().repetitionPenalty(2.5f).build()),
                // NOTE: negative: the greedy story repeats no token in its first 16, so only a boost changes it
                request("frequency", story, greedy.toBuilder().frequencyPenalty(-1.5f).presencePenalty(-2f).build()),
                request("logprobs", story, greedy.toBuilder().logprobs(3).build()),
                request("guided", story, greedy.toBuilder().guidedDecoding(new GuidedDecoding.JsonObject()).build()));
    }

    private static List<Completion> run(LlmEngine engine, List<GenerateRequest> requests) throws InterruptedException {
        List<CompletableFuture<Completion>> futures = requests.stream().map(engine::generate).toList();
        List<Completion> out = futures.stream().map(EngineFixtures::await).toList();
        awaitIdle(engine);
        assertThat(engine.stats().kv().numInUse()).isZero();
        return out;
    }

    private static LlmEngine engine(boolean deviceSampling, SimpleMeterRegistry registry) {
        ModelRunnerFactory runners = CudaRunners.factory(0, DecodeSteps.GRAPHS, deviceSampling);
        return new LlmEngine(ModelLoader.load(null), OPTIONS, registry, runners);
    }

    private static double rows(SimpleMeterRegistry registry, String where) {
        return registry.get("bulkhead.sampling.rows").tag("where", where).counter().count();
    }

    @Test
    void greedyWithPenaltiesMatchesHostSamplingInAMixedBatch() throws Exception {
        int maxTokens = GpuTarget.emulated() ? 16 : 48;
        List<GenerateRequest> batch = mixedBatch(maxTokens);
        SimpleMeterRegistry onDevice = new SimpleMeterRegistry();
        SimpleMeterRegistry onHost = new SimpleMeterRegistry();
        List<Completion> device;
        List<Completion> host;
        // NOTE: an engine's meters leave the registry when it closes: count the rows before that.
        try (LlmEngine e = engine(true, onDevice)) {
            device = run(e, batch);
            assertThat(rows(onDevice, "device")).as("three plain requests' rows").isEqualTo(3.0 * maxTokens);
            assertThat(rows(onDevice, "host")).as("the guided and log-probability rows").isEqualTo(2.0 * maxTokens);
        }
        try (LlmEngine e = engine(false, onHost)) {
            host = run(e, batch);
            assertThat(rows(onHost, "device")).isZero();
        }
        for (int i = 0; i < batch.size(); i++) {
            assertThat(device.get(i).tokenIds()).as(batch.get(i).requestId()).hasSize(maxTokens)
                    .containsExactly(host.get(i).tokenIds());
        }
        assertThat(device.get(1).tokenIds()).as("the repetition penalty changed the output")
                .isNotEqualTo(device.get(0).tokenIds());
        assertThat(device.get(2).tokenIds()).as("frequency and presence changed the output")
                .isNotEqualTo(device.get(0).tokenIds());
        assertThat(device.get(3).logprobs()).hasSize(maxTokens).allSatisfy(lp -> assertThat(lp.top()).hasSize(3));
        assertThat(device.get(4).text().strip()).as("guided output").startsWith("{");
    }

    @Test
    void seededSampledRequestsRepeatExactly() throws Exception {
        int maxTokens = GpuTarget.emulated() ? 16 : 48;
        SamplingParams sampled = SamplingParams.builder().temperature(0.9f).topP(0.95f).minP(0.02f).maxTokens(maxTokens)
                .ignoreEos(true).build();
        int[] story = {1, 403, 407, 261, 378};
        List<GenerateRequest> batch = List.of(
                request("s1", story, sampled.toBuilder().seed(1L).build()),
                request("s2", story, sampled.toBuilder().seed(2L).build()),
                request("greedy", story, SamplingParams.greedy(maxTokens).toBuilder().ignoreEos(true).build()));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (LlmEngine e = engine(true, registry)) {
            List<Completion> first = run(e, batch);
            List<Completion> second = run(e, batch);
            for (int i = 0; i < batch.size(); i++) {
                assertThat(second.get(i).tokenIds()).as(batch.get(i).requestId())
                        .containsExactly(first.get(i).tokenIds());
            }
            assertThat(first.get(0).tokenIds()).as("seeds 1 and 2 draw differently")
                    .isNotEqualTo(first.get(1).tokenIds());
            assertThat(first.get(0).tokenIds()).as("a sampled request is not the greedy one")
                    .isNotEqualTo(first.get(2).tokenIds());
            assertThat(rows(registry, "device")).isEqualTo(2.0 * 3 * maxTokens);
        }
    }
}
