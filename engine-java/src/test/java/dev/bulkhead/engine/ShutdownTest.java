package dev.bulkhead.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.api.FinishReason;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Shutdown drains what is in flight, and a second shutdown (a framework's drain, then its close) is harmless. */
class ShutdownTest {

    @Test
    void shutdownDrainsThenASecondShutdownAndCloseDoNothing() {
        LlmEngine engine = LlmEngine.open(null, EngineOptions.defaults().withThreads(1).withKvCacheBytes(4L << 20),
                new SimpleMeterRegistry());
        CompletableFuture<Completion> c = engine.generate(GenerateRequest.of("Once upon a time",
                SamplingParams.greedy(64).toBuilder().ignoreEos(true).build()));

        assertThat(engine.shutdown(Duration.ofSeconds(30))).as("drained").isTrue();
        assertThat(c.join().finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(engine.isRunning()).isFalse();

        assertThat(engine.shutdown(Duration.ofSeconds(1))).isTrue();
        engine.close();
    }
}
