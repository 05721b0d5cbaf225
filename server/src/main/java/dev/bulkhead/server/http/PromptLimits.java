package dev.bulkhead.server.http;

import dev.bulkhead.model.tokenizer.Tokenizer;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.WeakHashMap;

/**
 * Refuses prompts too long in characters to ever fit a model's context, before they are rendered or tokenized, so a
 * megabyte of text costs a length check instead of a tokenizer run.
 *
 * <p>The limit is the context in tokens times the longest token of the model's vocabulary in characters: no token
 * covers more characters of the prompt than its own vocabulary entry holds (a byte-level BPE entry spells each UTF-8
 * byte as one character, a SentencePiece entry each character as itself, a byte-fallback {@code <0x0A>} one byte in
 * six), so a longer prompt needs more tokens than the context has. NOTE: the one exception is a normalizer that
 * deletes or composes characters (NFC turns {@code e + U+0301} into one); real text near a limit this loose (tens of
 * characters per token of context, against about four for English) is not affected.
 */
final class PromptLimits {

    private final ModelBackend backend;
    // NOTE: weak keys, so a tokenizer of a model the router unloaded can go; Tokenizer keeps identity equality.
    private final Map<Tokenizer, Integer> longestToken = Collections.synchronizedMap(new WeakHashMap<>());

    PromptLimits(ModelBackend backend) {
        this.backend = backend;
    }

    /** The most characters a prompt for {@code model} may have; empty when the backend does not say. */
    OptionalLong maxChars(String model) {
        OptionalInt context = backend.contextTokens(model);
        Optional<Tokenizer> tokenizer = backend.tokenizer(model);
        if (context.isEmpty() || tokenizer.isEmpty()) {
            return OptionalLong.empty();
        }
        return OptionalLong.of((long) context.getAsInt() * longestToken(tokenizer.get()));
    }

    /**
     * Throws a 400 naming {@code field} when {@code chars} characters cannot fit {@code model}'s context.
     *
     * @param what how the message calls the text ({@code "prompt"}, {@code "the messages"})
     */
    void check(String model, String field, String what, long chars) {
        OptionalLong max = maxChars(model);
        if (max.isPresent() && chars > max.getAsLong()) {
            int context = backend.contextTokens(model).orElseThrow();
            throw ApiException.badRequest(field, what + " is " + chars + " characters long, more than the "
                    + max.getAsLong() + " that can fit this model's context of " + context + " tokens (no token "
                    + "of its vocabulary is longer than " + max.getAsLong() / context + " characters); shorten '"
                    + field + "'");
        }
    }

    /** Characters in every string of a chat message (content, parts, tool calls), an upper bound of its share. */
    static long chars(Object value) {
        return switch (value) {
            case String s -> s.length();
            case Map<?, ?> m -> m.values().stream().mapToLong(PromptLimits::chars).sum();
            case List<?> l -> l.stream().mapToLong(PromptLimits::chars).sum();
            case null, default -> 0;
        };
    }

    private int longestToken(Tokenizer t) {
        return longestToken.computeIfAbsent(t, k -> {
            int longest = 1;
            for (int id = 0; id < k.vocabSize(); id++) {
                longest = Math.max(longest, k.tokenText(id).length());
            }
            return longest;
        });
    }
}
