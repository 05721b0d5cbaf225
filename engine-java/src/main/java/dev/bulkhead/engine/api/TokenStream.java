package dev.bulkhead.engine.api;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;

/**
 * A streamed request: subscribe for its deltas (one subscriber, with back-pressure) and/or wait for its
 * completion. Cancelling the subscription or the future aborts the request.
 *
 * @param requestId  the request
 * @param publisher  the deltas
 * @param completion completes when the request finishes, with the whole output
 */
public record TokenStream(String requestId, Flow.Publisher<TokenDelta> publisher, CompletableFuture<Completion> completion)
        implements Flow.Publisher<TokenDelta> {

    @Override
    public void subscribe(Flow.Subscriber<? super TokenDelta> subscriber) {
        publisher.subscribe(subscriber);
    }
}
