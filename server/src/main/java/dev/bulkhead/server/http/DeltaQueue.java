package dev.bulkhead.server.http;

import dev.bulkhead.engine.api.TokenDelta;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Bridges the token streams of one HTTP request's choices (pushed from their delivery threads) to the pull of the
 * request's own virtual thread, which writes SSE chunks. Each event names its choice. At most n * max_tokens deltas
 * can queue, so it is bounded by the request itself.
 */
final class DeltaQueue {

    /** What the writer takes next: a delta, the end of a stream, or its failure, each of choice {@code index}. */
    sealed interface Event {
        int index();
    }

    record Delta(int index, TokenDelta delta) implements Event {
    }

    record Failed(int index, Throwable error) implements Event {
    }

    record Done(int index) implements Event {
    }

    /** The client closed its connection; ends the request whatever its streams are doing. */
    record ClientGone() implements Event {
        @Override
        public int index() {
            return -1;
        }
    }

    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final Queue<Flow.Subscription> subscriptions = new ConcurrentLinkedQueue<>();
    private volatile boolean cancelled;

    /** A subscriber that feeds choice {@code index}'s stream into this queue. */
    Flow.Subscriber<TokenDelta> subscriber(int index) {
        return new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                subscriptions.add(s);
                if (cancelled) {
                    s.cancel();
                } else {
                    s.request(Long.MAX_VALUE);
                }
            }

            @Override
            public void onNext(TokenDelta item) {
                events.add(new Delta(index, item));
            }

            @Override
            public void onError(Throwable throwable) {
                events.add(new Failed(index, throwable));
            }

            @Override
            public void onComplete() {
                events.add(new Done(index));
            }
        };
    }

    /** The next event, or null after {@code timeoutMillis} without one. */
    Event poll(long timeoutMillis) throws InterruptedException {
        return events.poll(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    /** Wakes the writer with {@link ClientGone}; called from the disconnect watcher's thread. */
    void clientGone() {
        events.add(new ClientGone());
    }

    /** Aborts every request fed into this queue (frees their KV blocks). */
    void cancel() {
        cancelled = true;
        for (Flow.Subscription s : subscriptions) {
            s.cancel();
        }
    }
}
