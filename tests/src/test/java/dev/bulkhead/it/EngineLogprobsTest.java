package dev.bulkhead.it;

import static dev.bulkhead.it.EngineFixtures.await;
import static dev.bulkhead.it.EngineFixtures.options;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.api.TokenDelta;
import dev.bulkhead.engine.api.TokenStream;
import dev.bulkhead.engine.internal.sampling.SampleResult;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Log-probabilities through the engine: one per token on the completion and on each streamed delta. */
class EngineLogprobsTest {

    static LlmEngine engine;

    @BeforeAll
    static void start() {
        engine = EngineFixtures.engine(options(64));
    }

    @AfterAll
    static void stop() {
        engine.close();
    }

    private static GenerateRequest request(String id, int logprobs) {
        return GenerateRequest.ofTokens(new int[] {1, 400, 300}, SamplingParams.greedy(10).toBuilder()
                .ignoreEos(true).logprobs(logprobs).build()).withRequestId(id);
    }

    @Test
    void completionCarriesOneLogprobPerTokenAndGreedyPicksTheTopOne() {
        Completion c = await(engine.generate(request("lp-on", 4)));
        assertThat(c.logprobs()).hasSize(c.tokenIds().length).hasSize(10);
        for (int i = 0; i < c.tokenIds().length; i++) {
            SampleResult r = c.logprobs().get(i);
            assertThat(r.tokenId()).isEqualTo(c.tokenIds()[i]);
            assertThat(r.logprob()).isLessThanOrEqualTo(0f);
            assertThat(r.top()).hasSize(4);
            assertThat(r.top().getFirst().tokenId()).isEqualTo(r.tokenId());
            assertThat(r.top().getFirst().logprob()).isEqualTo(r.logprob());
        }
        Completion off = await(engine.generate(request("lp-off", SamplingParams.LOGPROBS_OFF)));
        assertThat(off.logprobs()).isEmpty();
        assertThat(off.tokenIds()).containsExactly(c.tokenIds());
    }

    @Test
    void streamedDeltasCarryTheirTokensLogprobs() throws Exception {
        TokenStream stream = engine.stream(request("lp-stream", 0));
        List<TokenDelta> got = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        stream.subscribe(new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(TokenDelta d) {
                got.add(d);
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
        assertThat(got).hasSize(10);
        for (int i = 0; i < got.size(); i++) {
            assertThat(got.get(i).logprobs()).isEqualTo(c.logprobs().get(i));
            assertThat(got.get(i).logprobs().top()).isEmpty();
        }
    }
}
