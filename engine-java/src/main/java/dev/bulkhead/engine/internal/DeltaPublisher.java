package dev.bulkhead.engine.internal;

import dev.bulkhead.engine.api.TokenDelta;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The stream of one request's deltas to one subscriber, honouring its demand. The engine loop only enqueues
 * (never blocks, never runs subscriber code); delivery runs on {@code executor}, serialized by a
 * work-in-progress counter, so a slow subscriber slows nobody else. Undelivered deltas wait in a queue,
 * bounded by the request's max_tokens.
 */
public final class DeltaPublisher implements Flow.Publisher<TokenDelta> {

    private final Executor executor;
    private final Runnable onCancel;
    private final Queue<TokenDelta> queue = new ConcurrentLinkedQueue<>();
    private final AtomicLong demand = new AtomicLong();
    private final AtomicInteger wip = new AtomicInteger();
    private final AtomicReference<Flow.Subscriber<? super TokenDelta>> subscriber = new AtomicReference<>();
    private volatile boolean cancelled;
    private volatile boolean done;
    private volatile Throwable error;

    /**
     * @param executor where subscriber callbacks run
     * @param onCancel called once when the subscriber cancels (aborts the request)
     */
    public DeltaPublisher(Executor executor, Runnable onCancel) {
        this.executor = executor;
        this.onCancel = onCancel;
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
                    cancel();
                    schedule();
                    return;
                }
                demand.getAndAccumulate(n, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
                schedule();
            }

            @Override
            public void cancel() {
                DeltaPublisher.this.cancel();
            }
        });
        schedule();
    }

    /** Engine side: queue a delta; a delta with a finish reason ends the stream after it is delivered. */
    public void emit(TokenDelta delta) {
        queue.offer(delta);
        schedule();
    }

    /** Engine side: end the stream with an error once queued deltas are delivered. */
    public void fail(Throwable t) {
        error = t;
        schedule();
    }

    /** Whether the subscriber cancelled (or asked for a non-positive amount). */
    public boolean isCancelled() {
        return cancelled;
    }

    /** Cancels as if the subscriber had: the cancel hook runs once. */
    public void cancel() {
        if (!cancelled) {
            cancelled = true;
            onCancel.run();
        }
    }

    private void schedule() {
        if (wip.getAndIncrement() == 0) {
            executor.execute(this::drain);
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
