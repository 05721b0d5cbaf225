package dev.bulkhead.engine.internal.sampling;

import dev.bulkhead.engine.api.SamplingParams;

/**
 * The tokens one request has seen so far, as counts per token id for the penalties: prompt tokens (for the
 * repetition penalty) and output tokens (for all three). Updated incrementally; memory and penalty cost grow
 * with the number of distinct tokens seen, not with the vocabulary. Not thread safe: one per request.
 */
public final class TokenHistory {

    private final IntCounter prompt = new IntCounter();
    private final IntCounter output = new IntCounter();

    /** An empty history. */
    public TokenHistory() {
    }

    /** A history holding {@code promptIds} as its prompt. */
    public static TokenHistory ofPrompt(int[] promptIds) {
        TokenHistory h = new TokenHistory();
        h.addPrompt(promptIds);
        return h;
    }

    /** Adds prompt tokens (all of them at once, or chunk by chunk as prefill proceeds). Ids must be >= 0. */
    public void addPrompt(int[] ids) {
        for (int id : ids) {
            prompt.add(id);
        }
    }

    /** Adds one generated token. Ids must be >= 0. */
    public void addOutput(int id) {
        output.add(id);
    }

    /** Times {@code id} occurs in the prompt. */
    public int promptCount(int id) {
        return prompt.count(id);
    }

    /** Times {@code id} occurs in the output. */
    public int outputCount(int id) {
        return output.count(id);
    }

    /** Number of prompt tokens added. */
    public long promptLength() {
        return prompt.total();
    }

    /** Number of output tokens added. */
    public long outputLength() {
        return output.total();
    }

    /** Receives one distinct token and its count in the output (0: in the prompt only). */
    @FunctionalInterface
    public interface TokenCount {
        void accept(int id, int outputCount);
    }

    /**
     * At least as many as the tokens {@link #forEachPenalised} visits for {@code params}, found without visiting
     * them: the distinct prompt and output tokens when a repetition penalty is on, the distinct output tokens
     * when only frequency or presence is, else 0.
     */
    public int penalisedBound(SamplingParams params) {
        if (params.repetitionPenalty() != 1f) {
            return prompt.size() + output.size();
        }
        return params.frequencyPenalty() != 0f || params.presencePenalty() != 0f ? output.size() : 0;
    }

    /**
     * Visits once each distinct token a penalty of {@code params} touches, with its count in the output, for a
     * sampler elsewhere (the device's) that applies {@link Penalties}' rule from that list: the union of prompt
     * and output tokens when a repetition penalty is on, else the output tokens when frequency or presence is,
     * else none. Returns how many it visited.
     */
    public int forEachPenalised(SamplingParams params, TokenCount sink) {
        int visited = 0;
        if (params.repetitionPenalty() != 1f) {
            for (int i = 0; i < prompt.size(); i++) {
                int id = prompt.keyAt(i);
                sink.accept(id, output.count(id));
                visited++;
            }
        } else if (params.frequencyPenalty() == 0f && params.presencePenalty() == 0f) {
            return 0;
        }
        boolean promptVisited = params.repetitionPenalty() != 1f;
        for (int i = 0; i < output.size(); i++) {
            int id = output.keyAt(i);
            if (!promptVisited || prompt.count(id) == 0) {
                sink.accept(id, output.countAt(i));
                visited++;
            }
        }
        return visited;
    }

    IntCounter prompt() {
        return prompt;
    }

    IntCounter output() {
        return output;
    }
}
