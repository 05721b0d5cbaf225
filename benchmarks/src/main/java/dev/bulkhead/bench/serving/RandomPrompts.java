package dev.bulkhead.bench.serving;

import java.util.SplittableRandom;

/**
 * Seeded random token-id prompts. A random-weight model gives random text anyway, so prompts are drawn as
 * ids: BOS, then ids uniform over the vocabulary past the first {@value #FIRST_ORDINARY_ID} (Llama's UNK,
 * BOS and EOS). Prompt {@code i} of a seed is the same whatever else is drawn, so every rate and
 * concurrency level of a run sends the same prompts.
 *
 * @param vocabSize the model's vocabulary, > {@value #FIRST_ORDINARY_ID}
 * @param bosId     id put first, or -1 for none
 * @param seed      the prompts' seed
 */
public record RandomPrompts(int vocabSize, int bosId, long seed) {

    /** Ids below this are special in the Llama vocabularies and are never drawn. */
    public static final int FIRST_ORDINARY_ID = 3;

    public RandomPrompts {
        if (vocabSize <= FIRST_ORDINARY_ID) {
            throw new IllegalArgumentException("vocabSize must be > " + FIRST_ORDINARY_ID + ", got " + vocabSize);
        }
        if (bosId < -1 || bosId >= vocabSize) {
            throw new IllegalArgumentException("bosId must be -1 or in [0, " + vocabSize + "), got " + bosId);
        }
    }

    /** Prompt number {@code index}, {@code length} ids long. */
    public int[] prompt(int index, int length) {
        if (length < 1) {
            throw new IllegalArgumentException("length must be >= 1, got " + length);
        }
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index);
        int[] ids = new int[length];
        int from = 0;
        if (bosId >= 0) {
            ids[0] = bosId;
            from = 1;
        }
        for (int i = from; i < length; i++) {
            ids[i] = rnd.nextInt(FIRST_ORDINARY_ID, vocabSize);
        }
        return ids;
    }
}
