package dev.bulkhead.router;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.TokenDelta;
import dev.bulkhead.engine.internal.DeltaPublisher;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;

/**
 * The deltas of a routed stream, to one subscriber with back-pressure, whichever attempt produces them. Routing
 * pushes deltas in; delivery (the engine's {@link DeltaPublisher}) runs on virtual threads, so no subscriber code
 * runs on the engine's or the router's threads. Cancelling the subscription or {@link #completion()} runs the
 * cancel hook once (which aborts the attempt under way).
 */
final class StreamRelay implements Flow.Publisher<TokenDelta> {

    private final CompletableFuture<Completion> completion = new CompletableFuture<>();
    private final DeltaPublisher deltas;

    StreamRelay(Runnable onCancel) {
        this.deltas = new DeltaPublisher(task -> Thread.ofVirtual().name("bulkhead-stream-relay").start(task), () -> {
            completion.cancel(true);
            onCancel.run();
        });
        completion.whenComplete((c, e) -> {
            if (completion.isCancelled()) {
                deltas.cancel();
            }
        });
    }

    CompletableFuture<Completion> completion() {
        return completion;
    }

    boolean cancelled() {
        return deltas.isCancelled();
    }

    @Override
    public void subscribe(Flow.Subscriber<? super TokenDelta> s) {
        deltas.subscribe(s);
    }

    /** Queues a delta; one with a finish reason ends the stream once delivered. */
    void emit(TokenDelta delta) {
        deltas.emit(delta);
    }

    /** The whole output, once the serving attempt finished. */
    void complete(Completion c) {
        completion.complete(c);
    }

    /** Ends the stream with {@code t} once queued deltas are delivered. */
    void fail(Throwable t) {
        completion.completeExceptionally(t);
        deltas.fail(t);
    }
}
