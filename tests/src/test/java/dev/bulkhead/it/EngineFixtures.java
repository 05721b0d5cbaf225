package dev.bulkhead.it;

import dev.bulkhead.cuemu.GpuTarget;
import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.internal.cuda.CudaRunners;
import dev.bulkhead.engine.internal.runner.BatchInput;
import dev.bulkhead.engine.internal.runner.ForwardingModelRunner;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.model.ModelLoader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;

/** Engines over the embedded stories260K, sized small so pools fill and steps mix prefill with decode. */
final class EngineFixtures {

    /** K and V elements of one stories260K token: 5 layers, 4 kv heads x 8. */
    static final int KV_ELEMENTS_PER_TOKEN = 2 * 5 * 32;

    /**
     * A backend the engine tests run on: its runners, and how much smaller its workloads are ({@link #scaled}).
     * The CPU runs the full workloads; the CUDA path on the emulator runs kernels far slower, so it runs the same
     * test bodies on shorter (and, where the count does not make the test, fewer) requests.
     *
     * @param name    for messages
     * @param runners its runner factory; {@link ModelRunnerFactory#kvBytesPerElement()} sizes the pools
     * @param shrink  workload sizes are divided by it (1 = the full workload)
     */
    record Backend(String name, ModelRunnerFactory runners, int shrink) {

        static final Backend CPU = new Backend("cpu", ModelRunnerFactory.CPU, 1);

        /**
         * The CUDA backend on device 0: the emulator (workloads divided by {@code emulatorShrink}), or a real
         * GPU with {@code -Dbulkhead.gpu.target=device} (full workloads). Call {@link GpuTarget#require()} first.
         */
        static Backend cuda(int emulatorShrink) {
            return new Backend("cuda", CudaRunners.factory(0), GpuTarget.emulated() ? emulatorShrink : 1);
        }

        /** {@code n} divided by {@link #shrink}, at least {@code min}. */
        int scaled(int n, int min) {
            return Math.max(min, n / shrink);
        }

        /** As {@link EngineFixtures#options(int)}, with the KV budget in this backend's element size. */
        EngineOptions options(int blocks) {
            return EngineFixtures.options(blocks, runners.kvBytesPerElement());
        }

        LlmEngine engine(EngineOptions options) {
            return EngineFixtures.engine(options, runners);
        }

        /** As {@link EngineFixtures#wrapping}, around this backend's runners. */
        ModelRunnerFactory wrapping(IntPredicate failOn, int delayMillis) {
            return EngineFixtures.wrapping(runners, failOn, delayMillis);
        }
    }

    /** 2 threads, 16-token blocks, 64-token steps, 256-token context, a pool of {@code blocks} usable blocks (CPU). */
    static EngineOptions options(int blocks) {
        return options(blocks, Float.BYTES);
    }

    /** As {@link #options(int)} for a backend whose KV cache holds {@code kvBytesPerElement} bytes an element. */
    static EngineOptions options(int blocks, int kvBytesPerElement) {
        long bytesPerToken = (long) KV_ELEMENTS_PER_TOKEN * kvBytesPerElement;
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

    /** Both: fails the selected steps and slows every step by {@code delayMillis}, on the CPU. */
    static ModelRunnerFactory wrapping(IntPredicate failOn, int delayMillis) {
        return wrapping(ModelRunnerFactory.CPU, failOn, delayMillis);
    }

    /** As {@link #wrapping(IntPredicate, int)} around {@code base}'s runners (keeping its KV element size). */
    static ModelRunnerFactory wrapping(ModelRunnerFactory base, IntPredicate failOn, int delayMillis) {
        return ModelRunnerFactory.decorating(base, (runner, opts) -> new ForwardingModelRunner(runner) {
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
        });
    }

    private EngineFixtures() {
    }
}
