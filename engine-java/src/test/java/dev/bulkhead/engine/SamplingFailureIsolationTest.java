package dev.bulkhead.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.FinishReason;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.internal.runner.BatchInput;
import dev.bulkhead.engine.internal.runner.ForwardingModelRunner;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.model.ModelLoader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * A request whose logits row cannot be sampled (here: no finite value, as a NaN-producing model or a JSON
 * constraint that allows nothing would give) fails alone; the request batched with it in the same step finishes
 * normally, and no KV block stays in use.
 */
class SamplingFailureIsolationTest {

    /** Token that marks the poisoned request's prompt. */
    private static final int MARKER = 7;

    @Test
    void anUnsampleableRowFailsOnlyItsOwnRequest() throws Exception {
        CountDownLatch bothSubmitted = new CountDownLatch(1);
        ModelRunnerFactory poisoning = (weights, options) -> new ForwardingModelRunner(
                ModelRunnerFactory.CPU.create(weights, options)) {
            @Override
            public float[] forward(BatchInput batch) {
                try {
                    // NOTE: holds the first step until both requests are queued, so they share a batch.
                    bothSubmitted.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                float[] logits = delegate.forward(batch);
                int vocab = logits.length / batch.logitIndices().length;
                for (int row = 0; row < batch.logitIndices().length; row++) {
                    if (batch.tokenIds()[batch.logitIndices()[row]] == MARKER) {
                        Arrays.fill(logits, row * vocab, (row + 1) * vocab, Float.NEGATIVE_INFINITY);
                    }
                }
                return logits;
            }
        };
        EngineOptions options = EngineOptions.defaults().withThreads(1).withMaxModelLen(128);
        try (LlmEngine engine = new LlmEngine("iso", ModelLoader.load(null), options, new SimpleMeterRegistry(),
                poisoning)) {
            SamplingParams greedy = SamplingParams.greedy(12).toBuilder().ignoreEos(true).build();
            CompletableFuture<Completion> poisoned = engine.generate(GenerateRequest.ofTokens(
                    new int[] {1, 42, MARKER}, greedy));
            CompletableFuture<Completion> healthy = engine.generate(GenerateRequest.ofTokens(
                    new int[] {1, 42, 43}, greedy));
            bothSubmitted.countDown();

            assertThatThrownBy(poisoned::join).isInstanceOf(CompletionException.class)
                    .hasCauseInstanceOf(EngineStepException.class)
                    .hasMessageContaining("sampling failed").hasMessageContaining("no finite value");
            Completion ok = healthy.join();
            assertThat(ok.finishReason()).isEqualTo(FinishReason.LENGTH);
            assertThat(ok.tokenIds()).hasSize(12);
            long until = System.nanoTime() + 5_000_000_000L;
            while ((engine.inFlight() > 0 || engine.stats().kv().numInUse() > 0) && System.nanoTime() < until) {
                Thread.sleep(5);
            }
            assertThat(engine.stats().kv().numInUse()).isZero();
        }
    }
}
