package dev.bulkhead.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;

/**
 * The streaming bridge against a publisher that records demand: one delta requested at a time, none after a cancel,
 * and a handler that throws cancels its request and hears of it once.
 */
class StreamBridgeTest {

    private static final String ANSWER = "Once upon a time there was a dog called Max.";

    private static ChatRequest ask() {
        return ChatRequest.builder().messages(UserMessage.from("Tell me")).build();
    }

    @Test
    void oneDeltaIsRequestedAtATime() throws Exception {
        ScriptedBackend backend = new ScriptedBackend(Stories.HERMES_TEMPLATE, ANSWER);
        StreamingChatModel model = BulkheadStreamingChatModel.builder().backend(backend).build();
        Recorder r = new Recorder();
        model.chat(ask(), r);

        assertThat(r.done.get(5, TimeUnit.SECONDS).aiMessage().text()).isEqualTo(ANSWER);
        assertThat(r.text()).isEqualTo(ANSWER);
        assertThat(backend.lastStream.mostOutstanding).as("deltas requested ahead of the handler").isEqualTo(1);
    }

    @Test
    void aCancelStopsDeliveryAndCancelsTheStream() {
        ScriptedBackend backend = new ScriptedBackend(Stories.HERMES_TEMPLATE, ANSWER);
        Recorder r = new Recorder((rec, ctx) -> {
            if (rec.partials.size() == 2) {
                ctx.streamingHandle().cancel();
            }
        });
        BulkheadStreamingChatModel.builder().backend(backend).build().chat(ask(), r);

        assertThat(backend.lastStream.cancelled).isTrue();
        assertThat(backend.lastStream.delivered()).isEqualTo(2);
        assertThat(r.partials).hasSize(2);
        assertThat(r.done).isNotDone();
    }

    @Test
    void aHandlerThatThrowsCancelsItsRequestAndGetsOneError() {
        ScriptedBackend backend = new ScriptedBackend(Stories.HERMES_TEMPLATE, ANSWER);
        Recorder r = new Recorder((rec, ctx) -> {
            throw new IllegalStateException("handler broke");
        });
        BulkheadStreamingChatModel.builder().backend(backend).build().chat(ask(), r);

        assertThat(backend.lastStream.cancelled).isTrue();
        assertThat(r.partials).hasSize(1);
        Assertions.assertThatThrownBy(() -> r.done.get(1, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().hasMessage("handler broke");
        assertThat(r.callbacksAfterEnd.get()).isZero();
    }
}
