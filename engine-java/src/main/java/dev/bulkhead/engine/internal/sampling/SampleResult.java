package dev.bulkhead.engine.internal.sampling;

import java.util.List;
import java.util.Objects;

/**
 * A sampled token with its log-probability and the most likely alternatives, for OpenAI's {@code logprobs}.
 * Log-probabilities are those of the model's raw distribution ({@code log_softmax} of the logits before
 * penalties, temperature and truncation, and before a guided-decoding mask), vLLM's default
 * {@code raw_logprobs} mode.
 *
 * @param tokenId the sampled token
 * @param logprob its log-probability
 * @param top the {@code n} most likely tokens, most likely first (lower id first on ties); may include
 *            {@code tokenId}; empty when only the chosen token's log-probability was asked for
 */
public record SampleResult(int tokenId, float logprob, List<TokenLogprob> top) {

    /** Copies {@code top}. */
    public SampleResult {
        if (tokenId < 0) {
            throw new IllegalArgumentException("tokenId must be >= 0, got " + tokenId);
        }
        top = List.copyOf(Objects.requireNonNull(top, "top"));
    }

    /** One alternative token and its log-probability. */
    public record TokenLogprob(int tokenId, float logprob) {
    }
}
