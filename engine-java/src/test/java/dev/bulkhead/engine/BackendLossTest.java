package dev.bulkhead.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.internal.runner.BackendLostException;
import dev.bulkhead.engine.internal.runner.BatchInput;
import dev.bulkhead.engine.internal.runner.ForwardingModelRunner;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.model.ModelLoader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * When the backend is lost (a sticky CUDA error), the engine fails every request it holds, including one
 * queued while the fatal step ran, and stops; it never answers a request with an empty completion.
 */
class BackendLossTest {

    @Test
    void aRequestQueuedDuringTheFatalStepFailsRatherThanEndingEmpty() throws Exception {
        CountDownLatch inStep = new CountDownLatch(1);
        CountDownLatch secondQueued = new CountDownLatch(1);
        ModelRunnerFactory dying = ModelRunnerFactory.decorating(ModelRunnerFactory.CPU,
                (runner, options) -> new ForwardingModelRunner(runner) {
                    @Override
                    public float[] forward(BatchInput batch) {
                        inStep.countDown();
                        try {
                            secondQueued.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        throw new BackendLostException("test: the device context is lost",
                                new IllegalStateException("CUDA_ERROR_ILLEGAL_ADDRESS (700)"));
                    }
                });
        assertThat(dying.kvBytesPerElement()).as("decorating keeps the base's KV element size")
                .isEqualTo(ModelRunnerFactory.CPU.kvBytesPerElement());
        EngineOptions options = EngineOptions.defaults().withThreads(1).withMaxModelLen(128);
        SamplingParams greedy = SamplingParams.greedy(8).toBuilder().ignoreEos(true).build();
        try (LlmEngine engine = new LlmEngine("lost", ModelLoader.load(null), options, new SimpleMeterRegistry(), dying)) {
            CompletableFuture<Completion> running = engine.generate(GenerateRequest.ofTokens(new int[] {1, 42}, greedy));
            inStep.await();
            CompletableFuture<Completion> queued = engine.generate(GenerateRequest.ofTokens(new int[] {1, 43}, greedy));
            secondQueued.countDown();
            for (CompletableFuture<Completion> f : java.util.List.of(running, queued)) {
                assertThatThrownBy(f::join).isInstanceOf(CompletionException.class)
                        .hasCauseInstanceOf(EngineStepException.class).hasRootCauseMessage("CUDA_ERROR_ILLEGAL_ADDRESS (700)")
                        .hasMessageContaining("the device context is lost");
            }
            long until = System.nanoTime() + 5_000_000_000L;
            while (engine.isRunning() && System.nanoTime() < until) {
                Thread.sleep(5);
            }
            assertThat(engine.isRunning()).isFalse();
            assertThat(engine.failure()).hasValueSatisfying(f -> assertThat(f).contains("the device context is lost"));
            assertThatThrownBy(() -> engine.generate(GenerateRequest.ofTokens(new int[] {1, 44}, greedy)))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("engine stopped");
        }
    }
}
