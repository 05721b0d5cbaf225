package dev.bulkhead.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.FinishReason;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.internal.runner.CpuRunnerOptions;
import dev.bulkhead.engine.internal.runner.HeapKvLimit;
import dev.bulkhead.engine.internal.runner.ModelRunner;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.kvcache.KvMemoryLimit;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.model.ModelLoader;
import dev.bulkhead.model.arch.ModelWeights;
import dev.bulkhead.model.config.ModelConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** An engine whose KV pool is sized automatically, on the embedded stories260K and the CPU backend. */
class AutoKvPoolTest {

    private static final int CONTEXT = 128;
    private static final int RUNNING = 64;

    /** The CPU backend, with the automatic KV limit given here instead of measured on this JVM's heap. */
    private record LimitedCpu(long limitBytes) implements ModelRunnerFactory {
        @Override
        public ModelRunner create(ModelWeights weights, CpuRunnerOptions options) {
            return ModelRunnerFactory.CPU.create(weights, options);
        }

        @Override
        public KvMemoryLimit autoKvLimit(ModelConfig config) {
            return new KvMemoryLimit(limitBytes, "a test limit");
        }
    }

    private static EngineOptions options() {
        return EngineOptions.defaults().withThreads(1).withMaxModelLen(CONTEXT).withMaxRunning(RUNNING);
    }

    @Test
    void theDefaultIsAutoAndCoversEveryRunningSequenceAtTheFullContextWhenTheHeapAllows() throws Exception {
        assertThat(EngineOptions.defaults().isKvCacheAuto()).isTrue();
        ModelConfig config;
        try (LoadedModel m = ModelLoader.load(null)) {
            config = m.config();
        }
        long demand = (RUNNING * (CONTEXT / 16) + 1) * 16 * config.kvBytesPerToken(Float.BYTES);
        assumeThat(HeapKvLimit.current().kvLimit(config.kvDim(), config.kvBytesPerToken(Float.BYTES)).bytes())
                .as("this JVM's heap has room for the demand").isGreaterThanOrEqualTo(demand);
        try (LlmEngine engine = new LlmEngine(ModelLoader.load(null), options(), new SimpleMeterRegistry())) {
            assertThat(engine.kvCapacityTokens()).isEqualTo(RUNNING * CONTEXT);

            // Every sequence at the full context at once: nothing is preempted for want of blocks.
            SamplingParams fill = SamplingParams.greedy(CONTEXT - 2).toBuilder().ignoreEos(true).build();
            List<CompletableFuture<Completion>> all = IntStream.range(0, RUNNING)
                    .mapToObj(i -> engine.generate(GenerateRequest.ofTokens(new int[] {1, 2 + i}, fill))).toList();
            for (CompletableFuture<Completion> c : all) {
                assertThat(c.join().finishReason()).isEqualTo(FinishReason.LENGTH);
            }
            assertThat(engine.stats().numPreemptions()).isZero();
        }
    }

    @Test
    void aSmallerMemoryLimitCapsThePool() {
        LoadedModel model = ModelLoader.load(null);
        long perToken = model.config().kvBytesPerToken(Float.BYTES);
        long limit = 20 * 16 * perToken + 100; // 20 whole blocks and a bit
        try (LlmEngine engine = new LlmEngine("capped", model, options(), new SimpleMeterRegistry(),
                new LimitedCpu(limit))) {
            assertThat(engine.kvCapacityTokens()).isEqualTo((20 - 1) * 16);
            Completion c = engine.generate(GenerateRequest.of("Once upon a time",
                    SamplingParams.greedy(CONTEXT - 8).toBuilder().ignoreEos(true).build())).join();
            assertThat(c.finishReason()).isEqualTo(FinishReason.LENGTH);
        }
    }

    @Test
    void aLimitUnderOneFullContextSequenceFailsTheStartNamingTheSettingAndTheNumbers() {
        LoadedModel model = ModelLoader.load(null);
        long perToken = model.config().kvBytesPerToken(Float.BYTES);
        long need = (CONTEXT / 16 + 1) * 16 * perToken;
        try (model) {
            assertThatThrownBy(() -> new LlmEngine("small", model, options(), new SimpleMeterRegistry(),
                    new LimitedCpu(need - 1)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("kvCacheBytes (--kv-cache-mb)")
                    .hasMessageContaining("needs " + need + " bytes")
                    .hasMessageContaining("the limit for the KV pool is " + (need - 1) + " bytes (")
                    .hasMessageContaining("a test limit");
        }
        try (LlmEngine engine = new LlmEngine("floor", ModelLoader.load(null), options(), new SimpleMeterRegistry(),
                new LimitedCpu(need))) {
            assertThat(engine.kvCapacityTokens()).isEqualTo(CONTEXT);
        }
    }

    @Test
    void anExplicitSizeIsKeptAndNothingIsMeasured() {
        try (LlmEngine engine = new LlmEngine("explicit", ModelLoader.load(null),
                options().withKvCacheBytes(4L << 20), new SimpleMeterRegistry(), new ModelRunnerFactory() {
                    @Override
                    public ModelRunner create(ModelWeights weights, CpuRunnerOptions o) {
                        return ModelRunnerFactory.CPU.create(weights, o);
                    }

                    @Override
                    public KvMemoryLimit autoKvLimit(ModelConfig config) {
                        throw new AssertionError("an explicit size must not be measured");
                    }
                })) {
            long perToken = engine.config().kvBytesPerToken(Float.BYTES);
            assertThat(engine.kvCapacityTokens()).isEqualTo((int) (((4L << 20) / (16 * perToken) - 1) * 16));
        }
    }

    @Test
    void optionsValidateAuto() {
        assertThat(EngineOptions.defaults().withKvCacheBytes(1 << 20).withKvCacheAuto().kvCacheBytes())
                .isEqualTo(EngineOptions.KV_CACHE_AUTO);
        assertThat(EngineOptions.defaults().withKvCacheBytes(1 << 20).isKvCacheAuto()).isFalse();
        assertThatThrownBy(() -> EngineOptions.defaults().withKvCacheBytes(-1))
                .hasMessageContaining("kvCacheBytes must be >= 1, or KV_CACHE_AUTO (0)");
    }
}
