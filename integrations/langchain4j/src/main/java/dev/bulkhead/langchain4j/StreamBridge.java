package dev.bulkhead.langchain4j;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.TokenDelta;
import dev.bulkhead.engine.api.TokenStream;
import dev.bulkhead.engine.chat.ToolCall;
import dev.bulkhead.engine.chat.ToolCallExtractor;
import dev.langchain4j.model.chat.response.CompleteToolCall;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Feeds one request's {@link TokenStream} to a LangChain4j {@link StreamingChatResponseHandler}. Back-pressure: one
 * delta is requested at a time, after the handler returned from the previous one, so a slow handler holds the
 * deltas in the engine's bounded per-request queue instead of being called concurrently or ahead of itself.
 * Cancellation: {@link StreamingHandle#cancel()} (handed to the handler with every partial response) cancels the
 * subscription, which aborts the request and frees its KV blocks; the handler hears nothing after that. Text that may
 * still become a tool call is held back until it is known; each call is passed on whole.
 */
final class StreamBridge implements Flow.Subscriber<TokenDelta>, StreamingHandle {

    private final PreparedChat chat;
    private final TokenStream stream;
    private final StreamingChatResponseHandler handler;
    private final ToolCallExtractor extractor;
    private final StringBuilder text = new StringBuilder();
    private final List<ToolCall> calls = new ArrayList<>();
    private final AtomicBoolean finished = new AtomicBoolean();
    private volatile boolean cancelled;
    private volatile Flow.Subscription subscription;

    StreamBridge(PreparedChat chat, TokenStream stream, StreamingChatResponseHandler handler) {
        this.chat = chat;
        this.stream = stream;
        this.handler = handler;
        this.extractor = chat.tools().extractor();
    }

    /** Subscribes to the stream; answers arrive on the engine's delivery threads. */
    void start() {
        stream.subscribe(this);
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        s.request(1);
    }

    @Override
    public void onNext(TokenDelta delta) {
        if (cancelled) {
            return;
        }
        try {
            for (ToolCallExtractor.Piece piece : extractor.push(delta.text(), delta.isLast())) {
                if (cancelled) {
                    return;
                }
                switch (piece) {
                    case ToolCallExtractor.Text(String t) -> {
                        if (!t.isEmpty()) {
                            text.append(t);
                            handler.onPartialResponse(new PartialResponse(t), new PartialResponseContext(this));
                        }
                    }
                    case ToolCallExtractor.Call(ToolCall c) -> {
                        calls.add(c);
                        handler.onCompleteToolCall(new CompleteToolCall(calls.size() - 1,
                                ChatResponseMapper.toRequest(c)));
                    }
                }
            }
        } catch (RuntimeException e) {
            // NOTE: a handler that throws ends its own stream: the request is aborted and the handler told once.
            cancel();
            fail(e);
            return;
        }
        if (!delta.isLast() && !cancelled) {
            subscription.request(1);
        }
    }

    @Override
    public void onError(Throwable t) {
        if (!cancelled) {
            fail(t);
        }
    }

    @Override
    public void onComplete() {
        // NOTE: the completion carries what the deltas do not: the prompt's length for usage and the request id.
        stream.completion().whenComplete((c, e) -> {
            if (cancelled) {
                return;
            }
            if (e != null) {
                fail(e);
            } else {
                complete(c);
            }
        });
    }

    private void complete(Completion c) {
        if (finished.compareAndSet(false, true)) {
            try {
                handler.onCompleteResponse(ChatResponseMapper.toResponse(chat.model(), c, text.toString(), calls));
            } catch (RuntimeException e) {
                handler.onError(e);
            }
        }
    }

    private void fail(Throwable t) {
        if (finished.compareAndSet(false, true)) {
            handler.onError(Futures.unwrap(t));
        }
    }

    @Override
    public void cancel() {
        cancelled = true;
        Flow.Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
    }

    @Override
    public boolean isCancelled() {
        return cancelled;
    }
}
