package dev.bulkhead.server.cli.chat;

import dev.bulkhead.model.tokenizer.Tokenizer;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Fits a conversation into the model's context, as Ollama and llama.cpp do for the user: the answer's
 * {@code max_tokens} is clamped to the room left, and when the history leaves too little room the oldest turns
 * are dropped (the system prompt is kept).
 *
 * @param context      tokens the engine holds for prompt plus answer
 * @param minimumRoom  the room an answer should have before old turns are dropped to make it
 */
record ContextWindow(int context, int minimumRoom) {

    /**
     * A prompt that fits.
     *
     * @param ids          the rendered conversation as token ids
     * @param maxTokens    the answer's limit: the requested one, or the room left when that is less
     * @param droppedTurns how many of the oldest turns were dropped to make room
     */
    record Fitted(int[] ids, int maxTokens, int droppedTurns) {
    }

    /** The room an answer of {@code requested} tokens asks for: itself, up to a quarter of the context. */
    static ContextWindow of(int context, int requested) {
        if (context < 2) {
            throw new IllegalArgumentException("context must be >= 2 tokens, got " + context);
        }
        return new ContextWindow(context, Math.max(1, Math.min(requested, context / 4)));
    }

    /**
     * Renders {@code conversation} and drops its oldest turns until the prompt leaves {@link #minimumRoom}; the
     * newest user message alone may leave less, but at least one token.
     *
     * @param render turns messages into the prompt text (the chat template)
     * @throws ContextFullException when even the system prompt and the newest message leave no room
     */
    Fitted fit(Conversation conversation, Function<List<Map<String, Object>>, String> render, Tokenizer tokenizer,
               int requestedMaxTokens) {
        int dropped = 0;
        while (true) {
            // NOTE: the rendered template already holds BOS where the model wants it, as transformers assumes.
            int[] ids = tokenizer.encode(render.apply(conversation.messages()), false);
            int room = context - ids.length;
            if (room >= minimumRoom || room >= 1 && conversation.size() <= 1) {
                return new Fitted(ids, Math.min(requestedMaxTokens, room), dropped);
            }
            if (!conversation.dropOldestTurn()) {
                throw new ContextFullException("the message" + (conversation.system() != null
                        ? " and the system prompt take " : " takes ") + ids.length + " tokens but the context holds "
                        + context + " (prompt plus at least one answer token): shorten it"
                        + (conversation.system() != null ? " or the system prompt (/system TEXT)" : ""));
            }
            dropped++;
        }
    }

    /** Even the newest message alone does not fit; the conversation is kept. */
    static final class ContextFullException extends RuntimeException {

        ContextFullException(String message) {
            super(message);
        }
    }
}
