package dev.bulkhead.bench.serving;

import dev.bulkhead.engine.api.TokenDelta;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;

/**
 * A subscriber to one request's {@code TokenStream} that stamps every token delta with {@link System#nanoTime()}
 * on arrival, as a streaming client would, and completes {@link #timing()} when the stream ends. Deltas of
 * one stream are delivered serially (Flow's rule), so the unsynchronized buffer is safe; the future's
 * completion publishes it to the reader.
 */
public final class RequestRecorder implements Flow.Subscriber<TokenDelta> {

    private final String requestId;
    private final int promptTokens;
    private final int maxTokens;
    private final long scheduledNanos;
    private final long submitNanos;
    private final CompletableFuture<RequestTiming> timing = new CompletableFuture<>();
    private long[] stamps;
    private int count;
    private String finishReason;

    /**
     * @param submitNanos the {@link System#nanoTime()} just before the request was handed to the engine
     */
    public RequestRecorder(String requestId, int promptTokens, int maxTokens, long scheduledNanos, long submitNanos) {
        this.requestId = requestId;
        this.promptTokens = promptTokens;
        this.maxTokens = maxTokens;
        this.scheduledNanos = scheduledNanos;
        this.submitNanos = submitNanos;
        this.stamps = new long[Math.max(1, maxTokens)];
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
        subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(TokenDelta delta) {
        long now = System.nanoTime();
        // NOTE: a final delta of an abort or error carries no token (id -1) and must not count as one.
        if (delta.tokenId() >= 0) {
            if (count == stamps.length) {
                stamps = Arrays.copyOf(stamps, count * 2);
            }
            stamps[count++] = now;
        }
        if (delta.isLast()) {
            finishReason = delta.finishReason().name();
        }
    }

    @Override
    public void onError(Throwable error) {
        timing.complete(build(String.valueOf(error)));
    }

    @Override
    public void onComplete() {
        timing.complete(build(null));
    }

    /** Fails the recording without a stream, when the engine refused the request. */
    public void refused(Throwable error) {
        timing.complete(build("refused: " + error));
    }

    /** Completes when the stream ends, normally or not (never exceptionally). */
    public CompletableFuture<RequestTiming> timing() {
        return timing;
    }

    private RequestTiming build(String error) {
        return new RequestTiming(requestId, promptTokens, maxTokens, scheduledNanos, submitNanos,
                Arrays.copyOf(stamps, count), error == null ? finishReason : null, error);
    }
}
