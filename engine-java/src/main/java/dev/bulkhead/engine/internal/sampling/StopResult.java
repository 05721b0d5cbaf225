package dev.bulkhead.engine.internal.sampling;

import dev.bulkhead.scheduler.FinishReason;

/**
 * What one generated token did to a request's output.
 *
 * @param text the text that can be streamed now (possibly empty; text that may start a stop string is withheld)
 * @param finishReason {@link FinishReason#STOP} or {@link FinishReason#LENGTH} when the request is finished,
 *                     null while it goes on
 * @param stopString the stop string that ended the request, or null
 * @param stopTokenId the stop token (EOS or a stop token id) that ended the request, or -1
 */
public record StopResult(String text, FinishReason finishReason, String stopString, int stopTokenId) {

    /** Checks that the fields agree. */
    public StopResult {
        if (text == null) {
            throw new IllegalArgumentException("text must not be null");
        }
        if (finishReason == null && (stopString != null || stopTokenId != -1)) {
            throw new IllegalArgumentException("stopString and stopTokenId need a finishReason");
        }
    }

    /** True when the request is finished. */
    public boolean finished() {
        return finishReason != null;
    }
}
