package dev.bulkhead.engine.api;

import dev.bulkhead.engine.internal.sampling.SampleResult;
import java.util.List;

/**
 * A finished request.
 *
 * @param requestId       the request
 * @param promptTokenIds  the prompt as the model saw it
 * @param tokenIds        generated ids
 * @param text            generated text (cut at a stop string)
 * @param finishReason    STOP, LENGTH or ABORT (errors complete the future exceptionally)
 * @param timeToFirstTokenMillis  from submission to the first token
 * @param totalMillis     from submission to the end
 * @param logprobs        one entry per generated token when the request asked for log-probabilities, else empty
 */
public record Completion(String requestId, int[] promptTokenIds, int[] tokenIds, String text, FinishReason finishReason,
                         double timeToFirstTokenMillis, double totalMillis, List<SampleResult> logprobs) {

    public Completion {
        promptTokenIds = promptTokenIds.clone();
        tokenIds = tokenIds.clone();
        logprobs = List.copyOf(logprobs);
    }

    /** A completion without log-probabilities. */
    public Completion(String requestId, int[] promptTokenIds, int[] tokenIds, String text, FinishReason finishReason,
                      double timeToFirstTokenMillis, double totalMillis) {
        this(requestId, promptTokenIds, tokenIds, text, finishReason, timeToFirstTokenMillis, totalMillis, List.of());
    }

    @Override
    public int[] promptTokenIds() {
        return promptTokenIds.clone();
    }

    @Override
    public int[] tokenIds() {
        return tokenIds.clone();
    }
}
