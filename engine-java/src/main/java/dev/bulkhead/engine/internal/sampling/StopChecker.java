package dev.bulkhead.engine.internal.sampling;

import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.scheduler.FinishReason;

import dev.bulkhead.model.tokenizer.Tokenizer;
import java.util.Objects;

/**
 * Decides, token by token, what text one request streams and when it stops: on a stop token (the model's
 * EOS unless {@link SamplingParams#ignoreEos()}, and {@link SamplingParams#stopTokenIds()}), on a stop string
 * in the detokenized text (also one split over several tokens), or at {@link SamplingParams#maxTokens()}.
 * Precedence when one token triggers several, as in vLLM: stop string, then stop token, then length.
 *
 * <p>A stop token's own text is left out of the output unless
 * {@link SamplingParams#includeStopStringInOutput()}; the output is cut where a stop string starts (or after
 * it when included). Not thread safe: one per request.
 */
public final class StopChecker {

    private final SamplingParams params;
    private final int[] eosTokenIds;
    private final IncrementalDetokenizer detokenizer;
    private final StopStringMatcher matcher;
    private final StringBuilder output = new StringBuilder();
    private int generated;
    private FinishReason finishReason;

    /**
     * A checker for one request.
     *
     * @param eosTokenIds the model's end-of-sequence ids (a model may have several, e.g. Llama 3's
     *                    {@code <|eot_id|>} and {@code <|end_of_text|>}); ignored with {@code ignoreEos}
     * @param detokenizer the request's own detokenizer, already primed with its prompt
     */
    public StopChecker(SamplingParams params, int[] eosTokenIds, IncrementalDetokenizer detokenizer) {
        this.params = Objects.requireNonNull(params, "params");
        this.eosTokenIds = eosTokenIds.clone();
        this.detokenizer = Objects.requireNonNull(detokenizer, "detokenizer");
        this.matcher = new StopStringMatcher(params.stop(), params.includeStopStringInOutput());
    }

    /** A checker using {@code tokenizer}'s EOS id and a new detokenizer primed with {@code promptIds}. */
    public static StopChecker create(SamplingParams params, Tokenizer tokenizer, int[] promptIds) {
        int eos = tokenizer.eosId();
        return new StopChecker(params, eos >= 0 ? new int[] {eos} : new int[0],
                new IncrementalDetokenizer(tokenizer, promptIds, params.skipSpecialTokens()));
    }

    /**
     * Takes the next generated token and returns the text to stream and whether the request is finished.
     *
     * @throws IllegalStateException when the request already finished
     */
    public StopResult append(int tokenId) {
        if (finishReason != null) {
            throw new IllegalStateException("request already finished (" + finishReason + "), got token " + tokenId);
        }
        generated++;
        boolean stopToken = isStopToken(tokenId);
        String delta = stopToken && !params.includeStopStringInOutput() ? "" : detokenizer.append(tokenId);
        String text = matcher.accept(delta);
        if (matcher.matched() != null) {
            return finish(FinishReason.STOP, text, -1);
        }
        if (!stopToken && generated < params.maxTokens()) {
            output.append(text);
            return new StopResult(text, null, null, -1);
        }
        // NOTE: the request ends here: release held bytes and withheld text, which may still complete a stop.
        text += matcher.accept(detokenizer.flush());
        if (matcher.matched() != null) {
            return finish(FinishReason.STOP, text, -1);
        }
        text += matcher.release();
        return stopToken ? finish(FinishReason.STOP, text, tokenId) : finish(FinishReason.LENGTH, text, -1);
    }

    /** True once a token finished the request. */
    public boolean finished() {
        return finishReason != null;
    }

    /** The reason the request finished, or null. */
    public FinishReason finishReason() {
        return finishReason;
    }

    /** All text streamed so far, i.e. the concatenation of every {@link StopResult#text()}. */
    public String outputText() {
        return output.toString();
    }

    /** Number of tokens appended. */
    public int generatedTokens() {
        return generated;
    }

    private boolean isStopToken(int tokenId) {
        if (!params.ignoreEos()) {
            for (int eos : eosTokenIds) {
                if (eos == tokenId) {
                    return true;
                }
            }
        }
        return params.isStopTokenId(tokenId);
    }

    private StopResult finish(FinishReason reason, String text, int stopTokenId) {
        finishReason = reason;
        output.append(text);
        return new StopResult(text, reason, matcher.matched(), stopTokenId);
    }
}
