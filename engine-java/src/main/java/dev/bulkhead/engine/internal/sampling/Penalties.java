package dev.bulkhead.engine.internal.sampling;

import dev.bulkhead.engine.api.SamplingParams;

/**
 * The repetition, frequency and presence penalties, applied in place to a copy of one row of logits. The cost
 * is the number of distinct tokens in the history, never the vocabulary size.
 */
final class Penalties {

    private Penalties() {
    }

    /**
     * Applies the penalties of {@code params} to {@code logits[0, vocabSize)}, in vLLM's order: repetition
     * (prompt and output tokens, transformers' rule), then frequency and presence (output tokens only,
     * OpenAI's rule). Ids at or past {@code vocabSize} are ignored.
     */
    static void apply(float[] logits, int vocabSize, TokenHistory history, SamplingParams params) {
        float repetition = params.repetitionPenalty();
        if (repetition != 1f) {
            IntCounter prompt = history.prompt();
            for (int i = 0; i < prompt.size(); i++) {
                repeat(logits, vocabSize, prompt.keyAt(i), repetition);
            }
            IntCounter output = history.output();
            for (int i = 0; i < output.size(); i++) {
                int id = output.keyAt(i);
                // NOTE: a token in both prompt and output is penalised once, as transformers' scatter does.
                if (prompt.count(id) == 0) {
                    repeat(logits, vocabSize, id, repetition);
                }
            }
        }
        float frequency = params.frequencyPenalty();
        float presence = params.presencePenalty();
        if (frequency != 0f || presence != 0f) {
            IntCounter output = history.output();
            for (int i = 0; i < output.size(); i++) {
                int id = output.keyAt(i);
                if (id < vocabSize) {
                    // NOTE: two subtractions, not one, so float rounding matches vLLM's two tensor ops.
                    logits[id] -= frequency * output.countAt(i);
                    logits[id] -= presence;
                }
            }
        }
    }

    private static void repeat(float[] logits, int vocabSize, int id, float penalty) {
        if (id < vocabSize) {
            float v = logits[id];
            logits[id] = v > 0 ? v / penalty : v * penalty;
        }
    }
}
