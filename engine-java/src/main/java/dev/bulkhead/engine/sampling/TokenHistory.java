package dev.bulkhead.engine.sampling;

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

    IntCounter prompt() {
        return prompt;
    }

    IntCounter output() {
        return output;
    }
}
