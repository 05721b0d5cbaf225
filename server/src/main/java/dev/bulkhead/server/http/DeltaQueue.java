package dev.bulkhead.server.http;

import dev.bulkhead.engine.api.TokenDelta;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Bridges a token stream's push (its delivery threads) to the pull of the request's own virtual thread, which
 * writes SSE chunks. At most max_tokens deltas can queue, so it is bounded by the request itself.
 */
final class DeltaQueue implements Flow.Subscriber<TokenDelta> {

    /** What the writer takes next: a delta, the end of the stream, or its failure. */
    sealed interface Event {
    }

    record Delta(TokenDelta delta) implements Event {
    }

    record Failed(Throwable error) implements Event {
    }

    record Done() implements Event {
    }

    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private volatile Flow.Subscription subscription;
    private volatile boolean cancelled;

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        if (cancelled) {
            s.cancel();
        } else {
            s.request(Long.MAX_VALUE);
        }
    }

    @Override
    public void onNext(TokenDelta item) {
        events.add(new Delta(item));
    }

    @Override
    public void onError(Throwable throwable) {
        events.add(new Failed(throwable));
    }

    @Override
    public void onComplete() {
        events.add(new Done());
    }

    /** The next event, or null after {@code timeoutMillis} without one. */
    Event poll(long timeoutMillis) throws InterruptedException {
        return events.poll(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    /** Aborts the request (frees its KV blocks). */
    void cancel() {
        cancelled = true;
        Flow.Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
    }
}
