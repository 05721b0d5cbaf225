package dev.bulkhead.router;

import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.internal.runner.BatchInput;
import dev.bulkhead.engine.internal.runner.ForwardingModelRunner;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.model.embedded.EmbeddedModel;
import dev.bulkhead.model.synth.ModelShapes;
import dev.bulkhead.model.synth.RandomCheckpointGenerator;
import dev.bulkhead.model.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;

/** Tiny models and settings for router tests: random tiny-llama checkpoints and the embedded stories260K. */
final class RouterFixtures {

    private RouterFixtures() {
    }

    /** A random-weight tiny-llama checkpoint (stories260K tokenizer), written once under target/. */
    static synchronized String tinyCheckpoint(String name, long seed) {
        Path dir = Path.of("target", "router-models", name + "-" + seed).toAbsolutePath();
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            RandomCheckpointGenerator.generate(ModelShapes.get("tiny-llama"), DType.F32, seed, dir,
                    EmbeddedModel.extract());
        }
        return dir.toString();
    }

    /** The embedded stories260K. */
    static String stories() {
        return EmbeddedModel.extract().toString();
    }

    /** One thread, a 1 MiB KV pool, 128-token context; fast health checks and a quick breaker. */
    static ModelSpec model(String name, String source) {
        return new ModelSpec(name, source, 0,
                EngineSpec.defaults().withKvCacheBytes(1 << 20).withMaxModelLen(128).withMaxRunning(16),
                QueueLimits.defaults(), new BreakerSpec(20, 10, 50, 0, 0, 1_000, 3), new HealthSpec(1_000, 200, 500));
    }

    /** Quick restarts for tests. */
    static WatchdogSpec fastWatchdog() {
        return new WatchdogSpec(25, 3, 100, 1_000, 2_000, 100);
    }

    static GenerateRequest request(String prompt, int maxTokens, Duration deadline) {
        SamplingParams p = SamplingParams.greedy(maxTokens).toBuilder().ignoreEos(true).build();
        return GenerateRequest.of(prompt, p).withDeadline(Instant.now().plus(deadline));
    }

    /**
     * The CPU runner with a floor on step time: a stand-in for device time, so that latencies are set by the
     * models and not by JIT or thread-scheduling noise of a small CI machine.
     */
    static ModelRunnerFactory withStepFloor(int millis) {
        return (weights, options) -> new ForwardingModelRunner(ModelRunnerFactory.CPU.create(weights, options)) {

            @Override
            public float[] forward(BatchInput batch) {
                long until = System.nanoTime() + millis * 1_000_000L;
                float[] out = delegate.forward(batch);
                long left = until - System.nanoTime();
                if (left > 0) {
                    try {
                        Thread.sleep(Duration.ofNanos(left));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return out;
            }
        };
    }

    /** Polls {@code condition} every 10 ms; false when it did not hold within {@code timeout}. */
    static boolean await(Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long until = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() - until < 0) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(10);
        }
        return condition.getAsBoolean();
    }
}
