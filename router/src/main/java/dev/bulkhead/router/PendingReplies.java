package dev.bulkhead.router;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * Answers a worker owes the router for one kind of question, matched by sequence number. Each waits at most its
 * timeout and is forgotten then, so a worker that never answers leaves nothing behind.
 *
 * @param <T> the answer
 */
final class PendingReplies<T> {

    private final AtomicInteger nextSeq = new AtomicInteger();
    private final Map<Integer, CompletableFuture<T>> waiting = new ConcurrentHashMap<>();

    /** Asks by {@code send(seq)}; the answer, or a {@link java.util.concurrent.TimeoutException} after the timeout. */
    CompletableFuture<T> ask(IntConsumer send, long timeoutMillis) {
        int seq = nextSeq.incrementAndGet();
        CompletableFuture<T> f = new CompletableFuture<>();
        waiting.put(seq, f);
        f.whenComplete((t, e) -> waiting.remove(seq));
        send.accept(seq);
        return f.orTimeout(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    /** The answer to {@code seq}; dropped when it came too late. */
    void answer(int seq, T value) {
        CompletableFuture<T> f = waiting.remove(seq);
        if (f != null) {
            f.complete(value);
        }
    }

    /** Fails every question still waiting (the worker is gone). */
    void failAll(Throwable e) {
        waiting.values().forEach(f -> f.completeExceptionally(e));
    }

    /** Questions waiting now. */
    int waiting() {
        return waiting.size();
    }
}
