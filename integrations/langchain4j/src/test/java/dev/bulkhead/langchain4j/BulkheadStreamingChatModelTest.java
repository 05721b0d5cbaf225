package dev.bulkhead.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.engine.InvalidRequestException;
import dev.bulkhead.engine.LlmEngine;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The streaming chat model on the embedded story model: the same answer as the blocking one, back-pressure, cancel. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BulkheadStreamingChatModelTest {

    private LlmEngine engine;
    private StreamingChatModel streaming;
    private ChatModel blocking;

    @BeforeAll
    void open() {
        engine = Stories.open();
        streaming = BulkheadStreamingChatModel.builder().engine(engine).temperature(0.0).build();
        blocking = BulkheadChatModel.builder().engine(engine).temperature(0.0).build();
    }

    @AfterAll
    void close() {
        engine.close();
    }

    private static ChatRequest request(int maxTokens) {
        return ChatRequest.builder().messages(UserMessage.from("Once upon a time")).maxOutputTokens(maxTokens).build();
    }

    @Test
    void aSlowHandlerGetsTheBlockingAnswerOnePieceAtATime() throws Exception {
        // NOTE: the handler sleeps in every callback; the engine runs ahead and its deltas wait in the request's queue.
        Recorder r = new Recorder((rec, ctx) -> sleep(3));
        streaming.chat(request(32), r);
        ChatResponse done = r.done.get(30, TimeUnit.SECONDS);
        ChatResponse whole = blocking.chat(request(32));

        assertThat(r.partials.size()).isGreaterThan(5);
        assertThat(r.text()).isEqualTo(whole.aiMessage().text());
        assertThat(done.aiMessage().text()).isEqualTo(r.text());
        assertThat(done.tokenUsage()).isEqualTo(whole.tokenUsage());
        assertThat(done.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(r.mostInside.get()).as("callbacks at once").isEqualTo(1);
        assertThat(r.callbacksAfterEnd.get()).isZero();
    }

    @Test
    void cancellingFromTheHandlerAbortsTheRequestAndFreesItsBlocks() throws Exception {
        CountDownLatch cancelled = new CountDownLatch(1);
        Recorder r = new Recorder((rec, ctx) -> {
            if (rec.partials.size() == 3) {
                ctx.streamingHandle().cancel();
                assertThat(ctx.streamingHandle().isCancelled()).isTrue();
                cancelled.countDown();
            }
        });
        streaming.chat(request(400), r);
        assertThat(cancelled.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(await(Duration.ofSeconds(5), () -> engine.inFlight() == 0)).as("request aborted").isTrue();
        assertThat(engine.stats().kv().numInUse()).as("KV blocks in use after the abort").isZero();
        sleep(100);
        assertThat(r.partials).hasSize(3);
        assertThat(r.done).as("no completion or error after a cancel").isNotDone();
    }

    @Test
    void aBadRequestIsReportedToTheHandler() {
        Recorder r = new Recorder();
        streaming.chat(ChatRequest.builder().messages(UserMessage.from("Once upon a time")).maxOutputTokens(100_000)
                .build(), r);
        assertThatThrownBy(() -> r.done.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(InvalidRequestException.class).hasMessageContaining("max_tokens");
    }

    static boolean await(Duration d, java.util.function.BooleanSupplier condition) {
        long until = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < until) {
            if (condition.getAsBoolean()) {
                return true;
            }
            sleep(5);
        }
        return condition.getAsBoolean();
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
