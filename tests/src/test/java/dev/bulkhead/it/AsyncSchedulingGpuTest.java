package dev.bulkhead.it;

import static dev.bulkhead.it.EngineFixtures.awaitIdle;
import static dev.bulkhead.it.EngineFixtures.randomPrompt;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.cuemu.EmulatorSeedReporter;
import dev.bulkhead.cuemu.GpuTarget;
import dev.bulkhead.cuemu.OnGpuTarget;
import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.FinishReason;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.api.TokenDelta;
import dev.bulkhead.engine.internal.cuda.CudaRunners;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.engine.internal.runner.PipelinedSampler;
import dev.bulkhead.model.ModelLoader;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asynchronous scheduling on the CUDA backend (the emulator in every build): the engine launches step N+1, its
 * decode tokens fed from step N's sampled ids on the device, before it awaits step N. Against the synchronous loop on
 * the same backend: identical outputs for greedy and seeded requests of mixed lengths with stop strings, a stop token
 * and max_tokens on a pool small enough to preempt, and with requests aborted while steps are in flight; the pool
 * ends empty; and the runner counts the launches made ahead of the previous step's ids. Logs the host time per step
 * of both loops, measured the same way in the same run ({@code bulkhead.step.host_time}).
 */
@Tag("gpu")
@ExtendWith({OnGpuTarget.class, EmulatorSeedReporter.class})
class AsyncSchedulingGpuTest {

    private static final Logger LOG = LoggerFactory.getLogger(AsyncSchedulingGpuTest.class);

    /** A 10-block bf16 pool of 16-token blocks (160 tokens) for requests of up to 128. */
    private static EngineOptions options(boolean async) {
        return EngineFixtures.options(10, 2).withMaxModelLen(128).withMaxRunning(8).withAsyncScheduling(async);
    }

    private record Run(List<Completion> completions, PipelinedSampler runner, long preemptions, double hostMillis,
                       double exposedMillis) {
    }

    private static Run run(List<GenerateRequest> requests, boolean async, List<String> cancelAfterFirstToken)
            throws Exception {
        List<PipelinedSampler> made = new ArrayList<>();
        ModelRunnerFactory runners = ModelRunnerFactory.decorating(CudaRunners.factory(0), (runner, o) -> {
            made.add((PipelinedSampler) runner);
            return runner;
        });
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (LlmEngine engine = new LlmEngine("async-" + async, ModelLoader.load(null), options(async), registry,
                runners)) {
            List<CompletableFuture<Completion>> futures = new ArrayList<>();
            for (GenerateRequest r : requests) {
                if (cancelAfterFirstToken.contains(r.requestId())) {
                    // NOTE: cancelled from the stream's delivery thread as its first token arrives: mid-generation,
                    // with later steps of the request already queued.
                    var stream = engine.stream(r);
                    stream.subscribe(new CancelOnFirst(() -> engine.cancel(r.requestId())));
                    futures.add(stream.completion());
                } else {
                    futures.add(engine.generate(r));
                }
            }
            List<Completion> out = futures.stream().map(EngineFixtures::await).toList();
            awaitIdle(engine);
            assertThat(engine.stats().kv().numInUse()).as("KV blocks in use at the end").isZero();
            Timer host = registry.get("bulkhead.step.host_time").timer();
            Timer exposed = registry.get("bulkhead.step.host_time.exposed").timer();
            return new Run(out, made.getFirst(), engine.stats().numPreemptions(), host.mean(TimeUnit.MILLISECONDS),
                    exposed.mean(TimeUnit.MILLISECONDS));
        }
    }

    /** Requests one delta at a time and cancels the request once it has seen a token. */
    private static final class CancelOnFirst implements Flow.Subscriber<TokenDelta> {
        private final Runnable cancel;
        private Flow.Subscription subscription;
        private boolean cancelled;

        CancelOnFirst(Runnable cancel) {
            this.cancel = cancel;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(TokenDelta d) {
            if (!cancelled && d.tokenId() >= 0) {
                cancelled = true;
                cancel.run();
            }
        }

        @Override
        public void onError(Throwable t) {
        }

        @Override
        public void onComplete() {
        }
    }

    private static GenerateRequest request(String id, int[] prompt, SamplingParams p) {
        return GenerateRequest.ofTokens(prompt, p).withRequestId(id);
    }

    private static List<GenerateRequest> mixed(int scale) {
        SplittableRandom rnd = new SplittableRandom(21);
        SamplingParams greedy = SamplingParams.greedy(16).toBuilder().ignoreEos(true).build();
        List<GenerateRequest> all = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            all.add(request("greedy-" + i, randomPrompt(rnd, 3, 30), greedy.toBuilder().maxTokens((8 + 6 * i) * scale)
                    .build()));
        }
        SamplingParams sampled = SamplingParams.builder().temperature(0.9f).topP(0.95f).maxTokens(24 * scale).build();
        all.add(request("seeded-1", new int[] {1}, sampled.toBuilder().seed(1L).build()));
        all.add(request("seeded-2", new int[] {1}, sampled.toBuilder().seed(2L).stopTokenIds(13).build()));
        all.add(request("stop-string", new int[] {1, 403, 407}, greedy.toBuilder().maxTokens(40 * scale).stop("Lily")
                .build()));
        all.add(request("stop-token", new int[] {1}, greedy.toBuilder().maxTokens(40 * scale).stopTokenIds(432)
                .build()));
        all.add(request("one-token", randomPrompt(rnd, 20, 40), greedy.toBuilder().maxTokens(1).build()));
        return all;
    }

    private static void assertSameOutputs(List<Completion> got, List<Completion> expected) {
        for (int i = 0; i < expected.size(); i++) {
            Completion e = expected.get(i);
            assertThat(got.get(i).tokenIds()).as(e.requestId()).containsExactly(e.tokenIds());
            assertThat(got.get(i).text()).as(e.requestId()).isEqualTo(e.text());
            assertThat(got.get(i).finishReason()).as(e.requestId()).isEqualTo(e.finishReason());
        }
    }

    @Test
    void asynchronousSchedulingGivesTheSynchronousOutputsAndLaunchesAhead() throws Exception {
        List<GenerateRequest> requests = mixed(GpuTarget.emulated() ? 1 : 3);
        Run sync = run(requests, false, List.of());
        Run async = run(requests, true, List.of());
        assertSameOutputs(async.completions(), sync.completions());
        assertThat(sync.completions()).extracting(Completion::finishReason).as("stops and lengths")
                .contains(FinishReason.STOP, FinishReason.LENGTH);
        assertThat(async.preemptions()).as("the pool is small enough to preempt").isPositive();
        assertThat(sync.runner().overlappedLaunches()).as("synchronous: never ahead").isZero();
        assertThat(async.runner().overlappedLaunches()).as("launches made before the previous step's ids came back")
                .isGreaterThan(20);
        LOG.info("host time per step on {}: synchronous {} ms ({} ms exposed), asynchronous {} ms ({} ms exposed)",
                GpuTarget.emulated() ? "the CUDA emulator" : "the GPU", String.format("%.3f", sync.hostMillis()),
                String.format("%.3f", sync.exposedMillis()), String.format("%.3f", async.hostMillis()),
                String.format("%.3f", async.exposedMillis()));
        assertThat(async.exposedMillis() / async.hostMillis()).as("share of host time the device idles through")
                .isLessThan(sync.exposedMillis() / sync.hostMillis());
    }

    @Test
    void requestsAbortedWhileTheirNextStepIsInFlightEndCleanly() throws Exception {
        SplittableRandom rnd = new SplittableRandom(4);
        SamplingParams greedy = SamplingParams.greedy(GpuTarget.emulated() ? 20 : 60).toBuilder().ignoreEos(true)
                .build();
        List<GenerateRequest> requests = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            requests.add(request("r" + i, randomPrompt(rnd, 3, 20), greedy));
        }
        List<String> cancelled = List.of("r1", "r4");
        Run expected = run(requests, false, List.of());
        Run async = run(requests, true, cancelled);
        for (int i = 0; i < requests.size(); i++) {
            Completion c = async.completions().get(i);
            int[] full = expected.completions().get(i).tokenIds();
            if (cancelled.contains(c.requestId())) {
                assertThat(c.finishReason()).as(c.requestId()).isEqualTo(FinishReason.ABORT);
                assertThat(c.tokenIds().length).as("%s stopped early", c.requestId()).isLessThan(full.length);
                assertThat(c.tokenIds()).as("partial output of %s", c.requestId())
                        .containsExactly(Arrays.copyOf(full, c.tokenIds().length));
            } else {
                assertThat(c.tokenIds()).as(c.requestId()).containsExactly(full);
            }
        }
        assertThat(async.runner().overlappedLaunches()).isPositive();
    }
}
