package dev.bulkhead.engine.generate;

import dev.bulkhead.scheduler.FinishReason;

/**
 * The outcome of one generation.
 *
 * @param promptTokenIds the prompt as the model saw it
 * @param tokenIds       generated ids, including a final stop token when one ended the request
 * @param text           generated text, cut at a stop string
 * @param finishReason   STOP (EOS, stop token or stop string) or LENGTH (max tokens or the context)
 * @param timings        prefill and decode times
 */
public record GenerationResult(int[] promptTokenIds, int[] tokenIds, String text, FinishReason finishReason,
                               Timings timings) {

    public GenerationResult {
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
