package dev.bulkhead.langchain4j;

import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.CompleteToolCall;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/** A streaming handler that records what it is told, and whether two callbacks ever overlapped. */
class Recorder implements StreamingChatResponseHandler {

    final List<String> partials = new CopyOnWriteArrayList<>();
    final List<CompleteToolCall> toolCalls = new CopyOnWriteArrayList<>();
    final CompletableFuture<ChatResponse> done = new CompletableFuture<>();
    final AtomicInteger callbacksAfterEnd = new AtomicInteger();
    private final AtomicInteger inside = new AtomicInteger();
    final AtomicInteger mostInside = new AtomicInteger();
    private final BiConsumer<Recorder, PartialResponseContext> onPartial;

    Recorder(BiConsumer<Recorder, PartialResponseContext> onPartial) {
        this.onPartial = onPartial;
    }

    Recorder() {
        this((r, c) -> { });
    }

    private void enter() {
        if (done.isDone()) {
            callbacksAfterEnd.incrementAndGet();
        }
        mostInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
    }

    @Override
    public void onPartialResponse(PartialResponse partial, PartialResponseContext context) {
        enter();
        try {
            partials.add(partial.text());
            onPartial.accept(this, context);
        } finally {
            inside.decrementAndGet();
        }
    }

    @Override
    public void onCompleteToolCall(CompleteToolCall call) {
        enter();
        toolCalls.add(call);
        inside.decrementAndGet();
    }

    @Override
    public void onCompleteResponse(ChatResponse response) {
        enter();
        done.complete(response);
        inside.decrementAndGet();
    }

    @Override
    public void onError(Throwable error) {
        enter();
        done.completeExceptionally(error);
        inside.decrementAndGet();
    }

    String text() {
        return String.join("", partials);
    }
}
