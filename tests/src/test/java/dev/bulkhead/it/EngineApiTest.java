package dev.bulkhead.it;

import static dev.bulkhead.it.EngineFixtures.await;
import static dev.bulkhead.it.EngineFixtures.awaitIdle;
import static dev.bulkhead.it.EngineFixtures.greedy;
import static dev.bulkhead.it.EngineFixtures.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.engine.EngineStepException;
import dev.bulkhead.engine.InvalidRequestException;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.FinishReason;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.api.TokenDelta;
import dev.bulkhead.engine.api.TokenStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The public in-process API: validation, streaming with back-pressure, cancellation, deadlines, failures. */
class EngineApiTest {

    static LlmEngine engine;
    /** 5 ms per step: 200 tokens take a second, so cancels and deadlines land mid-generation on any machine. */
    static LlmEngine slowEngine;

    @BeforeAll
    static void start() {
        engine = EngineFixtures.engine(options(64));
        slowEngine = EngineFixtures.engine(options(64), EngineFixtures.slow(5));
    }

    @AfterAll
    static void stop() {
        engine.close();
        slowEngine.close();
    }

    private static void assertField(Runnable r, String field) {
        assertThatThrownBy(r::run).isInstanceOf(InvalidRequestException.class)
                .satisfies(e -> assertThat(((InvalidRequestException) e).field()).isEqualTo(field))
                .hasMessageContaining(field);
    }

    @Test
    void invalidRequestsNameTheFieldAndQueueNothing() {
        SamplingParams ok = SamplingParams.greedy(4);
        assertField(() -> engine.generate(GenerateRequest.ofTokens(new int[0], ok)), "prompt");
        assertField(() -> engine.generate(GenerateRequest.ofTokens(new int[] {1, 600}, ok)), "prompt_token_ids");
        assertField(() -> engine.generate(GenerateRequest.ofTokens(new int[] {1, 5}, SamplingParams.greedy(255))),
                "max_tokens");
        assertField(() -> engine.generate(GenerateRequest.ofTokens(new int[300], ok)), "prompt");
        assertField(() -> SamplingParams.builder().maxTokens(0).build(), "max_tokens");
        assertField(() -> SamplingParams.builder().temperature(-1).build(), "temperature");
        assertField(() -> SamplingParams.builder().topP(1.5f).build(), "top_p");
        assertField(() -> SamplingParams.builder().stop(java.util.Collections.nCopies(17, "x")).build(), "stop");
        assertField(() -> engine.generate(greedy("late", new int[] {1}, 4).withDeadline(Instant.now().minusSeconds(1))),
                "deadline");
        assertThat(engine.inFlight()).isZero();
    }

    @Test
    void duplicateRequestIdIsRejected() {
        // NOTE: the slow engine keeps the first in flight for a while; on the fast one it could finish (40 tokens
        // in a few ms) before the duplicate arrives if the test thread is descheduled, which once happened in CI.
        CompletableFuture<Completion> first = slowEngine.generate(greedy("dup", new int[] {1, 400}, 40));
        assertField(() -> slowEngine.generate(greedy("dup", new int[] {1, 401}, 4)), "request_id");
        await(first);
    }

    @Test
    void streamDeliversEveryDeltaUnderBackPressure() throws Exception {
        TokenStream stream = engine.stream(GenerateRequest.of("Once upon a time", SamplingParams.greedy(40)));
        List<TokenDelta> got = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        AtomicBoolean overDelivered = new AtomicBoolean();
        stream.subscribe(new Flow.Subscriber<>() {
            Flow.Subscription sub;
            int outstanding;

            @Override
            public void onSubscribe(Flow.Subscription s) {
                sub = s;
                outstanding = 1;
                s.request(1);
            }

            @Override
            public void onNext(TokenDelta d) {
                if (--outstanding < 0) {
                    overDelivered.set(true);
                }
                got.add(d);
                try {
                    Thread.sleep(2); // a slow consumer
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                outstanding++;
                sub.request(1);
            }

            @Override
            public void onError(Throwable t) {
                done.countDown();
            }

            @Override
            public void onComplete() {
                done.countDown();
            }
        });
        assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        Completion c = stream.completion().get(5, TimeUnit.SECONDS);
        assertThat(overDelivered).isFalse();
        assertThat(got).hasSize(c.tokenIds().length);
        assertThat(got.getLast().finishReason()).isEqualTo(c.finishReason());
        assertThat(String.join("", got.stream().map(TokenDelta::text).toList())).isEqualTo(c.text());
        assertThat(got.stream().mapToInt(TokenDelta::tokenId).toArray()).containsExactly(c.tokenIds());
    }

    @Test
    void cancellingTheSubscriptionAbortsAndFreesBlocks() throws Exception {
        TokenStream stream = slowEngine.stream(greedy("cancel-me", new int[] {1, 400, 300}, 200));
        CountDownLatch first = new CountDownLatch(1);
        stream.subscribe(new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                s.request(3);
                new Thread(() -> {
                    try {
                        first.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    s.cancel();
                }).start();
            }

            @Override
            public void onNext(TokenDelta item) {
                first.countDown();
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onComplete() {
            }
        });
        Completion c = stream.completion().get(30, TimeUnit.SECONDS);
        assertThat(c.finishReason()).isEqualTo(FinishReason.ABORT);
        assertThat(c.tokenIds().length).isLessThan(200);
        awaitIdle(slowEngine);
        assertThat(slowEngine.stats().kv().numInUse()).isZero();
    }

    @Test
    void cancelByIdAndByFuture() throws Exception {
        CompletableFuture<Completion> byId = slowEngine.generate(greedy("by-id", new int[] {1, 7}, 200));
        CompletableFuture<Completion> byFuture = slowEngine.generate(greedy("by-future", new int[] {1, 8}, 200));
        assertThat(slowEngine.cancel("by-id")).isTrue();
        assertThat(slowEngine.cancel("no-such-request")).isFalse();
        byFuture.cancel(true);
        assertThat(byId.get(30, TimeUnit.SECONDS).finishReason()).isEqualTo(FinishReason.ABORT);
        awaitIdle(slowEngine);
        assertThat(slowEngine.stats().kv().numInUse()).isZero();
    }

    @Test
    void expiredDeadlineAbortsWithPartialOutput() throws Exception {
        Completion c = slowEngine.generate(greedy("deadline", new int[] {1, 9}, 240)
                .withDeadline(Instant.now().plusMillis(100))).get(30, TimeUnit.SECONDS);
        assertThat(c.finishReason()).isEqualTo(FinishReason.ABORT);
        assertThat(c.tokenIds().length).isLessThan(240);
    }

    @Test
    void stopStringsAndEosEndRequests() {
        Completion lily = await(engine.generate(GenerateRequest.of("Once upon a time",
                SamplingParams.builder().temperature(0).maxTokens(100).stop("Lily").build())));
        assertThat(lily.finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(lily.text()).doesNotContain("Lily");
        Completion length = await(engine.generate(GenerateRequest.of("Once", SamplingParams.greedy(5))));
        assertThat(length.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(length.tokenIds()).hasSize(5);
    }

    @Test
    void aFailingStepFailsOnlyItsRequestsAndTheLoopGoesOn() throws Exception {
        // Fail exactly the third forward pass.
        try (LlmEngine faulty = EngineFixtures.engine(options(64), EngineFixtures.failing(step -> step == 2))) {
            CompletableFuture<Completion> victim = faulty.generate(greedy("victim", new int[] {1, 403, 407}, 20));
            assertThatThrownBy(() -> victim.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(EngineStepException.class).hasMessageContaining("injected failure in step 2");
            Completion after = await(faulty.generate(greedy("after", new int[] {1, 403, 407}, 20)));
            assertThat(after.tokenIds()).hasSize(20);
            awaitIdle(faulty);
            assertThat(faulty.stats().kv().numInUse()).isZero();
            assertThat(faulty.isRunning()).isTrue();
        }
    }

    @Test
    void shutdownDrainsThenRejects() throws Exception {
        LlmEngine e = EngineFixtures.engine(options(64));
        CompletableFuture<Completion> pending = e.generate(greedy("drain", new int[] {1, 5}, 30));
        assertThat(e.shutdown(Duration.ofSeconds(30))).isTrue();
        assertThat(pending.get(1, TimeUnit.SECONDS).tokenIds()).hasSize(30);
        assertThatThrownBy(() -> e.generate(greedy("x", new int[] {1}, 2))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }
}
