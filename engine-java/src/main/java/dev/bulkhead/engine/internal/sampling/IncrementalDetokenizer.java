package dev.bulkhead.engine.internal.sampling;

import dev.bulkhead.model.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.Objects;

/**
 * Turns one request's output tokens into text deltas as they arrive, the way vLLM's incremental
 * detokenizer does: it decodes a short window of recent tokens twice, from a prefix offset to the read offset
 * and from the prefix offset to the end, and emits only what the new token added.
 *
 * <p>The window gives the tokenizer the context it needs: a SentencePiece {@code ▁word} decodes to
 * {@code " word"} after other text but to {@code "word"} at the start of a decode; starting the window with
 * the last prompt tokens makes the first output token come out right. A character split over byte-fallback
 * (or byte-level) tokens decodes to U+FFFD until its last byte arrives; such text is held back, never
 * emitted, until it is complete. The window then restarts at the last emitted token, so each step decodes a
 * handful of tokens: O(1) per token, however long the output.
 *
 * <p>Not thread safe: one per request.
 */
public final class IncrementalDetokenizer {

    /** Prompt tokens decoded as context before the first output token, vLLM's value. */
    static final int PROMPT_CONTEXT = 5;
    /**
     * Tokens held back at most while their text ends in U+FFFD. A UTF-8 character has at most four bytes, so
     * a longer run is not an unfinished character but invalid bytes; they are emitted as U+FFFD.
     */
    static final int MAX_PENDING = 8;

    private static final char REPLACEMENT = '\uFFFD';

    private final Tokenizer tokenizer;
    private final boolean skipSpecialTokens;
    private int[] window = new int[16];  // (length) recent token ids: context, emitted, pending
    private int length;
    private int prefixOffset;            // window[prefixOffset, readOffset) is context already emitted
    private int readOffset;              // window[readOffset, length) is not yet emitted

    /**
     * A detokenizer for output that follows {@code promptIds} (may be empty).
     *
     * @param skipSpecialTokens drop special tokens from the text, as {@link Tokenizer#decode} does
     */
    public IncrementalDetokenizer(Tokenizer tokenizer, int[] promptIds, boolean skipSpecialTokens) {
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.skipSpecialTokens = skipSpecialTokens;
        int from = Math.max(0, promptIds.length - PROMPT_CONTEXT);
        for (int i = from; i < promptIds.length; i++) {
            push(promptIds[i]);
        }
        readOffset = length;
    }

    /** Adds one output token and returns the text it completes: possibly empty, never an unfinished character. */
    public String append(int tokenId) {
        push(tokenId);
        String prefix = decode(prefixOffset, readOffset);
        String full = decode(prefixOffset, length);
        boolean unfinished = !full.isEmpty() && full.charAt(full.length() - 1) == REPLACEMENT;
        boolean overdue = length - readOffset >= MAX_PENDING;
        if (full.length() > prefix.length() && (!unfinished || overdue)) {
            return advance(full.substring(prefix.length()));
        }
        if (full.length() <= prefix.length() && overdue) {
            // NOTE: a run of tokens without text (skipped special tokens) gives no context; dropping it keeps
            // the window bounded and the emitted context in place.
            length = readOffset;
        }
        return "";
    }

    /**
     * Emits whatever is held back (an unfinished character comes out as U+FFFD, as a full decode would
     * show it); for the end of a request.
     */
    public String flush() {
        if (readOffset == length) {
            return "";
        }
        String prefix = decode(prefixOffset, readOffset);
        String full = decode(prefixOffset, length);
        return advance(full.length() <= prefix.length() ? "" : full.substring(prefix.length()));
    }

    private String advance(String delta) {
        // NOTE: the emitted tokens stay as the next step's context; older ones leave the window.
        int drop = readOffset;
        System.arraycopy(window, drop, window, 0, length - drop);
        length -= drop;
        prefixOffset = 0;
        readOffset = length;
        return delta;
    }

    private void push(int id) {
        if (length == window.length) {
            window = Arrays.copyOf(window, length * 2);
        }
        window[length++] = id;
    }

    private String decode(int from, int to) {
        return from == to ? "" : tokenizer.decode(Arrays.copyOfRange(window, from, to), skipSpecialTokens);
    }
}
