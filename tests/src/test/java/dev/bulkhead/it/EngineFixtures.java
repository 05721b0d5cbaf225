package dev.bulkhead.it;

import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.runner.BatchInput;
import dev.bulkhead.engine.runner.ForwardingModelRunner;
import dev.bulkhead.engine.runner.ModelRunnerFactory;
import dev.bulkhead.engine.sampling.SamplingParams;
import dev.bulkhead.model.ModelLoader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;

/** Engines over the embedded stories260K, sized small so pools fill and steps mix prefill with decode. */
final class EngineFixtures {

    /** 2 threads, 16-token blocks, 64-token steps, 256-token context, a pool of {@code blocks} usable blocks. */
    static EngineOptions options(int blocks) {
        long bytesPerToken = 2L * 5 * 32 * Float.BYTES; // stories260K: 5 layers, 4 kv heads x 8
        return EngineOptions.defaults().withThreads(2).withBlockSize(16).withMaxBatchedTokens(64).withMaxRunning(32)
                .withMaxModelLen(256).withKvCacheBytes((blocks + 1) * 16 * bytesPerToken);
    }

    static LlmEngine engine(EngineOptions options) {
        return new LlmEngine(ModelLoader.load(null), options, new SimpleMeterRegistry());
    }

    static LlmEngine engine(EngineOptions options, ModelRunnerFactory runners) {
        return new LlmEngine(ModelLoader.load(null), options, new SimpleMeterRegistry(), runners);
    }

    static int[] randomPrompt(SplittableRandom rnd, int minLen, int maxLen) {
        int[] p = new int[rnd.nextInt(minLen, maxLen + 1)];
        p[0] = 1;
        for (int i = 1; i < p.length; i++) {
            p[i] = rnd.nextInt(3, 512);
        }
        return p;
    }

    static GenerateRequest greedy(String id, int[] prompt, int maxTokens) {
        return GenerateRequest.ofTokens(prompt, SamplingParams.greedy(maxTokens).toBuilder().ignoreEos(true).build())
                .withRequestId(id);
    }

    static Completion await(java.util.concurrent.CompletableFuture<Completion> f) {
        try {
            return f.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("request did not complete: " + e, e);
        }
    }

    /** Waits until the engine has nothing in flight and its loop has published idle statistics. */
    static void awaitIdle(LlmEngine engine) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while ((engine.inFlight() > 0 || engine.stats().numRunning() > 0 || engine.stats().numWaiting() > 0
                || engine.stats().kv().numInUse() > 0) && System.nanoTime() < until) {
            Thread.sleep(5);
        }
    }

    /** A runner that throws on the forward passes {@code failOn} selects (by step number), else delegates. */
    static ModelRunnerFactory failing(IntPredicate failOn) {
        return wrapping(failOn, 0);
    }

    /**
     * A runner whose every forward pass takes at least {@code millis} more: a slow model, so tests that race a
     * cancel or a deadline against generation are decided by the test, not by how fast the machine is.
     */
    static ModelRunnerFactory slow(int millis) {
        return wrapping(step -> false, millis);
    }

    /** Both: fails the selected steps and slows every step by {@code delayMillis}. */
    static ModelRunnerFactory wrapping(IntPredicate failOn, int delayMillis) {
        return (weights, opts) -> new ForwardingModelRunner(ModelRunnerFactory.CPU.create(weights, opts)) {
            private int step;

            @Override
            public float[] forward(BatchInput batch) {
                if (failOn.test(step++)) {
                    throw new IllegalStateException("injected failure in step " + (step - 1));
                }
                if (delayMillis > 0) {
                    try {
                        Thread.sleep(delayMillis);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return delegate.forward(batch);
            }
        };
    }

    private EngineFixtures() {
    }
}
