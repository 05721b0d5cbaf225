package dev.bulkhead.engine.api;

import dev.bulkhead.scheduler.FinishReason;

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
 */
public record Completion(String requestId, int[] promptTokenIds, int[] tokenIds, String text, FinishReason finishReason,
                         double timeToFirstTokenMillis, double totalMillis) {

    public Completion {
        promptTokenIds = promptTokenIds.clone();
        tokenIds = tokenIds.clone();
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
