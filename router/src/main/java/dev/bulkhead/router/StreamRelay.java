package dev.bulkhead.router;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.TokenDelta;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The deltas of a routed stream, to one subscriber with back-pressure, whichever attempt produces them. Routing
 * pushes deltas in; delivery runs on a virtual thread, serialized by a work-in-progress counter, so no subscriber
 * code runs on the engine's or the router's threads. Cancelling the subscription or {@link #completion()} runs
 * the cancel hook once (which aborts the attempt under way).
 */
final class StreamRelay implements Flow.Publisher<TokenDelta> {

    private final Queue<TokenDelta> queue = new ConcurrentLinkedQueue<>();
    private final AtomicLong demand = new AtomicLong();
    private final AtomicInteger wip = new AtomicInteger();
    private final AtomicReference<Flow.Subscriber<? super TokenDelta>> subscriber = new AtomicReference<>();
    private final CompletableFuture<Completion> completion = new CompletableFuture<>();
    private final Runnable onCancel;
    private volatile boolean cancelled;
    private volatile boolean done;
    private volatile Throwable error;

    StreamRelay(Runnable onCancel) {
        this.onCancel = onCancel;
        completion.whenComplete((c, e) -> {
            if (completion.isCancelled()) {
                cancel();
            }
        });
    }

    CompletableFuture<Completion> completion() {
        return completion;
    }

    boolean cancelled() {
        return cancelled;
    }

    @Override
    public void subscribe(Flow.Subscriber<? super TokenDelta> s) {
        if (!subscriber.compareAndSet(null, s)) {
            s.onSubscribe(new Flow.Subscription() {
                @Override
                public void request(long n) {
                }

                @Override
                public void cancel() {
                }
            });
            s.onError(new IllegalStateException("a request's stream takes a single subscriber"));
            return;
        }
        s.onSubscribe(new Flow.Subscription() {
            @Override
            public void request(long n) {
                if (n <= 0) {
                    error = new IllegalArgumentException("request(n) needs n > 0, got " + n);
                    StreamRelay.this.cancel();
                    schedule();
                    return;
                }
                demand.getAndAccumulate(n, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
                schedule();
            }

            @Override
            public void cancel() {
                StreamRelay.this.cancel();
            }
        });
        schedule();
    }

    private void cancel() {
        if (!cancelled) {
            cancelled = true;
            completion.cancel(true);
            onCancel.run();
        }
    }

    /** Queues a delta; one with a finish reason ends the stream once delivered. */
    void emit(TokenDelta delta) {
        queue.offer(delta);
        schedule();
    }

    /** The whole output, once the serving attempt finished. */
    void complete(Completion c) {
        completion.complete(c);
    }

    /** Ends the stream with {@code t} once queued deltas are delivered. */
    void fail(Throwable t) {
        error = t;
        completion.completeExceptionally(t);
        schedule();
    }

    private void schedule() {
        if (wip.getAndIncrement() == 0) {
            Thread.ofVirtual().name("bulkhead-stream-relay").start(this::drain);
        }
    }

    private void drain() {
        int missed = 1;
        while (true) {
            Flow.Subscriber<? super TokenDelta> s = subscriber.get();
            if (s != null && !done) {
                deliver(s);
            }
            missed = wip.addAndGet(-missed);
            if (missed == 0) {
                return;
            }
        }
    }

    private void deliver(Flow.Subscriber<? super TokenDelta> s) {
        while (!done && !cancelled && demand.get() > 0) {
            TokenDelta d = queue.poll();
            if (d == null) {
                break;
            }
            demand.decrementAndGet();
            s.onNext(d);
            if (d.isLast()) {
                done = true;
                s.onComplete();
                return;
            }
        }
        Throwable e = error;
        if (!done && e != null && (queue.isEmpty() || cancelled)) {
            done = true;
            s.onError(e);
        }
    }
}
