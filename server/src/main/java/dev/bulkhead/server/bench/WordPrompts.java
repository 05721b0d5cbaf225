package dev.bulkhead.server.bench;

import java.util.SplittableRandom;

/**
 * Seeded prompts of random common English words, sized to an approximate token count. Over HTTP the
 * benchmark cannot send token ids, so it sends text whose words are short and frequent enough to be about
 * one token each in a Llama-family vocabulary; the server's usage chunk reports the exact count. Prompt
 * {@code i} of a seed is the same whatever else is drawn.
 *
 * @param seed the prompts' seed
 */
public record WordPrompts(long seed) {

    private static final String[] WORDS = ("the a and to of in was he she it they said day time little big "
            + "one two cat dog girl boy sun tree house happy sad play run jump walk look see saw went came good "
            + "friend mom dad ball park water food red blue green bird fish book car toy box cake hat bed door "
            + "home school help find made make love like want have had we you all so but then very not with "
            + "for on at up down out new old long small fast slow sky rain snow wind star moon hill road").split(" ");

    /** Prompt number {@code index}, about {@code tokens} tokens long (one word per token, at least one word). */
    public String prompt(int index, int tokens) {
        if (tokens < 1) {
            throw new IllegalArgumentException("tokens must be >= 1, got " + tokens);
        }
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index);
        StringBuilder sb = new StringBuilder(tokens * 5);
        // NOTE: the tokenizer adds BOS, so one word fewer than the target keeps the count close.
        int words = Math.max(1, tokens - 1);
        for (int i = 0; i < words; i++) {
            if (i > 0) {
                sb.append(' ');
            }
            sb.append(WORDS[rnd.nextInt(WORDS.length)]);
        }
        return sb.toString();
    }
}
