package dev.bulkhead.engine.api;

import dev.bulkhead.engine.internal.sampling.SampleResult;

/**
 * One streamed piece of a request's output: the token just sampled and the text that became stable with it
 * (possibly empty while a stop string or a multi-byte character is pending). The last delta carries the
 * finish reason.
 *
 * @param requestId    the request
 * @param tokenId      the sampled token, or -1 on a final delta that carries no token (abort, error)
 * @param text         text to append to the output
 * @param index        0-based index of this token in the output
 * @param finishReason null while the request goes on
 * @param logprobs     the token's log-probability and top alternatives when the request asked for them, else null
 */
public record TokenDelta(String requestId, int tokenId, String text, int index, FinishReason finishReason,
                         SampleResult logprobs) {

    /** A delta without log-probabilities. */
    public TokenDelta(String requestId, int tokenId, String text, int index, FinishReason finishReason) {
        this(requestId, tokenId, text, index, finishReason, null);
    }

    public boolean isLast() {
        return finishReason != null;
    }
}
