package dev.bulkhead.engine;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.api.TokenDelta;
import dev.bulkhead.engine.internal.guided.JsonGuide;
import dev.bulkhead.engine.internal.runner.SamplingRows;
import dev.bulkhead.engine.internal.sampling.IncrementalDetokenizer;
import dev.bulkhead.engine.internal.sampling.SampleResult;
import dev.bulkhead.engine.internal.sampling.Sampler;
import dev.bulkhead.engine.internal.sampling.StopChecker;
import dev.bulkhead.engine.internal.sampling.StopResult;
import dev.bulkhead.engine.internal.sampling.TokenHistory;
import dev.bulkhead.model.tokenizer.Tokenizer;
import dev.bulkhead.scheduler.FinishReason;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * The engine-side state of one request: how it samples and stops, what it produced, and where its output
 * goes. Owned by the engine loop thread; only {@link #future} is touched from other threads.
 */
final class ActiveRequest {

    final String id;
    final int[] promptIds;
    final long deadlineNanos;
    final long submitNanos;
    final CompletableFuture<Completion> future = new CompletableFuture<>();
    private final Sampler sampler;
    private final SamplingParams params;
    private final long deviceSeed;               // keys this request's draws on a device sampler
    private final TokenHistory history;
    private final StopChecker stop;
    private final Consumer<TokenDelta> sink;
    private final Consumer<Throwable> errorSink;
    private final JsonGuide guide;               // null unless the request asked for guided decoding
    private int[] output = new int[16];
    private final List<SampleResult> logprobs;  // one per output token, or null when the request asked for none
    private SampleResult pending;                // the last sample's log-probabilities, until accept() takes them
    private int produced;
    private int inFlight;                        // tokens being sampled by launched steps, not yet accepted
    private long firstTokenNanos;
    private long lastTokenNanos;
    private long lastGapNanos;

    /**
     * @param deadlineNanos {@link System#nanoTime()} after which the request is aborted, or Long.MAX_VALUE
     * @param sink          receives every delta (a stream's publisher, or nothing for plain futures)
     * @param errorSink     receives the error that failed the request
     * @param guide         constrains sampling for {@link SamplingParams#guidedDecoding()}, or null
     */
    ActiveRequest(String id, int[] promptIds, SamplingParams params, int[] eosIds, Tokenizer tokenizer,
                  long submitNanos, long deadlineNanos, Consumer<TokenDelta> sink, Consumer<Throwable> errorSink,
                  JsonGuide guide) {
        this.id = id;
        this.promptIds = promptIds;
        this.submitNanos = submitNanos;
        this.deadlineNanos = deadlineNanos;
        this.sampler = new Sampler(params);
        this.params = params;
        this.deviceSeed = params.seed() != null ? params.seed() : ThreadLocalRandom.current().nextLong();
        this.history = TokenHistory.ofPrompt(promptIds);
        this.stop = new StopChecker(params, eosIds,
                new IncrementalDetokenizer(tokenizer, promptIds, params.skipSpecialTokens()));
        this.sink = sink;
        this.errorSink = errorSink;
        this.guide = guide;
        this.logprobs = params.logprobs() >= 0 ? new ArrayList<>() : null;
    }

    /** Samples this request's next token from its row of logits, among the tokens its guide allows. */
    int sample(float[] logits, int offset, int vocabSize) {
        long[] allowed = guide == null ? null : guide.allowedTokens();
        if (logprobs == null) {
            return sampler.sample(logits, offset, vocabSize, history, allowed);
        }
        pending = sampler.sampleWithLogprobs(logits, offset, vocabSize, history, allowed);
        return pending.tokenId();
    }

    /**
     * Describes this request's next logit row to a device sampler: a device row with its parameters, its draw's
     * key (seed, and the number of tokens produced before this one as the step, counting those still being sampled
     * by launched steps, so a recomputed or pipelined step draws the same) and the tokens its penalties touch; or a
     * host row when it needs what only the host sampler does (a guide's allowed tokens, log-probabilities) or its
     * penalty list would pass {@code penaltyRoom}. Returns the entries it used.
     */
    int describeRow(SamplingRows rows, int penaltyRoom) {
        if (guide != null || logprobs != null || history.penalisedBound(params) > penaltyRoom) {
            rows.host();
            return 0;
        }
        rows.device(params.isGreedy() ? 0f : params.temperature(), params.topK(), params.topP(), params.minP(),
                params.repetitionPenalty(), params.frequencyPenalty(), params.presencePenalty(), deviceSeed,
                produced + inFlight);
        int used = history.forEachPenalised(params, rows::penalty);
        rows.endRow();
        return used;
    }

    /**
     * Whether a step that samples this request must wait for the step before it: its row needs the host sampler
     * (a guide, log-probabilities), or its penalties need every token it produced, the one in flight included.
     */
    boolean needsCompleteHistory() {
        return guide != null || logprobs != null || params.repetitionPenalty() != 1f || params.frequencyPenalty() != 0f
                || params.presencePenalty() != 0f;
    }

    /** A launched step samples this request's next token; {@link #landed()} when that step completes. */
    void launched() {
        inFlight++;
    }

    /** A launched step that sampled this request completed (its token is accepted next, or discarded). */
    void landed() {
        inFlight--;
    }

    /** The last token accepted, or -1 before the first. */
    int lastToken() {
        return produced == 0 ? -1 : output[produced - 1];
    }

    /** Records a sampled token, streams its text, and returns the finish reason when it ended the request. */
    FinishReason accept(int token, long nowNanos) {
        if (produced == 0) {
            firstTokenNanos = nowNanos;
        } else {
            lastGapNanos = nowNanos - lastTokenNanos;
        }
        lastTokenNanos = nowNanos;
        if (produced == output.length) {
            output = Arrays.copyOf(output, produced * 2);
        }
        output[produced++] = token;
        history.addOutput(token);
        if (guide != null) {
            // NOTE: the guide's state is a function of the accepted tokens; preemption re-runs the model over
            // them but never accepts them again, so the state stays in step with the output.
            guide.accept(token);
        }
        SampleResult lp = null;
        if (logprobs != null) {
            // NOTE: pending belongs to this token unless the caller passed one it did not sample here.
            lp = pending != null && pending.tokenId() == token ? pending : new SampleResult(token, Float.NaN, List.of());
            pending = null;
            logprobs.add(lp);
        }
        StopResult r = stop.append(token);
        sink.accept(new TokenDelta(id, token, r.text(), produced - 1, api(r.finishReason()), lp));
        return r.finishReason();
    }

    /** Ends the request without a token (abort): the stream gets a last delta, the future the partial output. */
    void abort(long nowNanos) {
        sink.accept(new TokenDelta(id, -1, "", produced, dev.bulkhead.engine.api.FinishReason.ABORT));
        complete(FinishReason.ABORT, nowNanos);
    }

    /** Completes the future with what was produced. */
    void complete(FinishReason reason, long nowNanos) {
        double ttft = produced == 0 ? Double.NaN : (firstTokenNanos - submitNanos) / 1e6;
        future.complete(new Completion(id, promptIds, Arrays.copyOf(output, produced), stop.outputText(), api(reason), ttft,
                (nowNanos - submitNanos) / 1e6, logprobs == null ? List.of() : logprobs));
    }

    /**
     * The API's reason for the scheduler's (null while running). NOTE: the engine runs on the scheduler's
     * enum; the API has its own with the same constants, so the scheduler module stays out of user code.
     */
    private static dev.bulkhead.engine.api.FinishReason api(FinishReason reason) {
        return reason == null ? null : dev.bulkhead.engine.api.FinishReason.valueOf(reason.name());
    }

    /** Fails the request: the future completes exceptionally and the stream ends with the error. */
    void fail(Throwable error) {
        errorSink.accept(error);
        future.completeExceptionally(error);
    }

    int produced() {
        return produced;
    }

    /** Time to first token, valid once a token was produced. */
    long timeToFirstTokenNanos() {
        return firstTokenNanos - submitNanos;
    }

    /** Time between the last two tokens (time per output token), valid from the second token on. */
    long lastGapNanos() {
        return lastGapNanos;
    }
}
