package dev.bulkhead.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Set;

/**
 * A validated vLLM {@code POST /detokenize} body.
 *
 * @param model  requested model or alias
 * @param tokens the token ids to turn back into text
 */
record DetokenizeRequest(String model, int[] tokens) {

    private static final Set<String> FIELDS = Set.of("model", "tokens");

    /** Reads {@code body}; every error is a 400 naming its field ({@code tokens[i]} for a bad id). */
    static DetokenizeRequest parse(JsonNode body) {
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw ApiException.badRequest(f, "unknown field '" + f + "'");
            }
        }
        String model = RequestParser.string(body, "model");
        if (model == null || model.isBlank()) {
            throw ApiException.badRequest("model", "'model' is required");
        }
        JsonNode tokens = RequestParser.given(body, "tokens");
        if (tokens == null || !tokens.isArray()) {
            throw ApiException.badRequest("tokens", "'tokens' must be a list of token ids");
        }
        return new DetokenizeRequest(model, CompletionPrompts.ids(tokens, "tokens"));
    }

    /** A 400 naming {@code tokens[i]} for the first id outside {@code [0, vocabSize)}. */
    void checkRange(int vocabSize) {
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= vocabSize) {
                throw ApiException.badRequest("tokens[" + i + "]", "tokens[" + i + "] = " + tokens[i]
                        + " is outside the vocabulary [0, " + vocabSize + ")");
            }
        }
    }
}
