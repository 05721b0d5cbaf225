package dev.bulkhead.router;

import dev.bulkhead.engine.EngineStepException;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.FinishReason;
import dev.bulkhead.engine.api.TokenDelta;
import dev.bulkhead.engine.api.TokenStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One streamed attempt on one model, after the router took a breaker permission and an admission permit. Until
 * routing decides, deltas are held back: if the attempt fails before its first delta it is abandoned and the next
 * model is tried; once it goes live its deltas (held ones first) flow into the relay and a failure ends the
 * stream. The outcome is recorded in the model's breaker and latency estimate once, and the permit released.
 */
final class StreamAttempt implements Flow.Subscriber<TokenDelta> {

    private final ModelSlot slot;
    private final PriorityClass pc;
    private final TokenStream engine;
    private final long start = System.nanoTime();
    private final CompletableFuture<Void> signal = new CompletableFuture<>();
    private final AtomicBoolean settled = new AtomicBoolean();
    private final List<TokenDelta> held = new ArrayList<>();
    private Throwable heldError;
    private Completion heldCompletion;
    private StreamRelay live;
    private boolean abandoned;

    StreamAttempt(ModelSlot slot, PriorityClass pc, TokenStream engine) {
        this.slot = slot;
        this.pc = pc;
        this.engine = engine;
    }

    /** Subscribes to the engine's stream and watches its completion ({@code view} may be failed by a restart). */
    void start(CompletableFuture<Completion> view) {
        view.whenComplete((c, e) -> {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            settle(c, cause);
            synchronized (this) {
                if (live != null) {
                    if (cause != null) {
                        live.fail(cause);
                    } else {
                        live.complete(c);
                    }
                } else if (!abandoned) {
                    heldError = cause;
                    heldCompletion = c;
                    signal.complete(null);
                }
            }
            if (cause != null) {
                engine.completion().cancel(true);
            }
        });
        engine.subscribe(this);
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        // NOTE: unbounded: the engine holds at most max_tokens deltas anyway; the relay applies the subscriber's demand.
        s.request(Long.MAX_VALUE);
    }

    @Override
    public synchronized void onNext(TokenDelta d) {
        if (live != null) {
            live.emit(d);
        } else if (!abandoned) {
            held.add(d);
            signal.complete(null);
        }
    }

    @Override
    public synchronized void onError(Throwable t) {
        if (live != null) {
            live.fail(t);
        } else if (!abandoned) {
            heldError = t;
            signal.complete(null);
        }
    }

    @Override
    public void onComplete() {
    }

    /**
     * Waits until the attempt produced its first delta or finished, at most {@code timeoutNanos}; true when it
     * then went live into {@code relay} (after {@code beforeLive} ran), false when it was abandoned.
     */
    boolean awaitFirst(long timeoutNanos, StreamRelay relay, Runnable beforeLive) throws InterruptedException {
        Throwable failure = null;
        try {
            signal.get(timeoutNanos, TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            failure = new TimeoutException("model " + slot.name() + " sent no token within "
                    + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms");
        } catch (ExecutionException e) {
            failure = e.getCause();
        } catch (InterruptedException e) {
            cancel();
            throw e;
        }
        synchronized (this) {
            boolean served = !held.isEmpty() || heldCompletion != null;
            if (served) {
                beforeLive.run();
                live = relay;
                held.forEach(relay::emit);
                held.clear();
                if (heldCompletion != null) {
                    relay.complete(heldCompletion);
                } else if (heldError != null) {
                    relay.fail(heldError);
                }
                return true;
            }
            abandoned = true;
            if (failure == null) {
                failure = heldError;
            }
        }
        if (failure instanceof TimeoutException) {
            settle(null, failure);
        }
        engine.completion().cancel(true);
        return false;
    }

    /** Why the attempt was abandoned, for the rejection message. */
    synchronized String failureMessage() {
        return "model " + slot.name() + " failed before its first token"
                + (heldError != null ? ": " + heldError.getMessage() : "");
    }

    /** Aborts the engine request; the breaker is not blamed (the client went away). */
    void cancel() {
        if (settled.compareAndSet(false, true)) {
            slot.breaker().releasePermission();
            slot.admission().release(pc);
        }
        engine.completion().cancel(true);
    }

    private void settle(Completion c, Throwable e) {
        if (!settled.compareAndSet(false, true)) {
            return;
        }
        long took = System.nanoTime() - start;
        try {
            if (e instanceof CancellationException) {
                slot.breaker().releasePermission();
            } else if (e != null) {
                if (e instanceof EngineStepException && e.getCause() instanceof OutOfMemoryError oom) {
                    slot.markFatal("OutOfMemoryError in a forward pass: " + oom.getMessage());
                }
                slot.breaker().onError(took, TimeUnit.NANOSECONDS, e);
            } else if (c.finishReason() == FinishReason.ABORT) {
                slot.breaker().onError(took, TimeUnit.NANOSECONDS,
                        new TimeoutException("model " + slot.name() + " missed the stream's deadline"));
            } else {
                slot.latency().observe(took, c.tokenIds().length);
                slot.breaker().onSuccess(took, TimeUnit.NANOSECONDS);
            }
        } finally {
            slot.admission().release(pc);
        }
    }
}
