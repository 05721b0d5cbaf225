package dev.bulkhead.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bulkhead.engine.chat.ChatPrompts;
import dev.bulkhead.engine.chat.ChatTools;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A validated vLLM {@code POST /tokenize} body: a {@code prompt}, or chat {@code messages} rendered as
 * {@code /v1/chat/completions} renders them.
 *
 * @param model               requested model or alias
 * @param prompt              the text, or null when {@code messages} are given
 * @param messages            chat messages as the template reads them, or null when {@code prompt} is given
 * @param tools               the tools offered to the template ({@link ChatTools#NONE} for none)
 * @param addGenerationPrompt open the assistant's turn after the messages (vLLM's default: true)
 * @param addSpecialTokens    encode with the tokenizer's special tokens (BOS); by default true for a prompt, as in
 *                            vLLM; for messages null, meaning what the chat endpoint does
 *                            ({@link ChatPrompts#addsSpecialTokens})
 * @param returnTokenStrs     also answer each token's vocabulary entry ({@code token_strs})
 */
record TokenizeRequest(String model, String prompt, List<Map<String, Object>> messages, ChatTools tools,
                       boolean addGenerationPrompt, Boolean addSpecialTokens, boolean returnTokenStrs) {

    private static final Set<String> PROMPT_FIELDS = Set.of("model", "prompt", "add_special_tokens",
            "return_token_strs");
    private static final Set<String> CHAT_FIELDS = Set.of("model", "messages", "add_generation_prompt",
            "add_special_tokens", "return_token_strs", "tools");

    /** Whether this asks for chat messages to be rendered. */
    boolean chat() {
        return messages != null;
    }

    /** Reads {@code body}; every error is a 400 naming its field. */
    static TokenizeRequest parse(JsonNode body) {
        boolean chat = body.has("messages");
        if (chat == body.has("prompt")) {
            throw ApiException.badRequest(chat ? "messages" : "prompt", "give either 'prompt' (text) or 'messages' "
                    + "(a chat to render with the model's template), not " + (chat ? "both" : "neither"));
        }
        Set<String> allowed = chat ? CHAT_FIELDS : PROMPT_FIELDS;
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                throw ApiException.badRequest(f, PROMPT_FIELDS.contains(f) || CHAT_FIELDS.contains(f)
                        ? "'" + f + "' goes with '" + (chat ? "prompt" : "messages") + "', not with '"
                        + (chat ? "messages" : "prompt") + "'" : "unknown field '" + f + "'");
            }
        }
        WellFormedText.require(body);
        String model = RequestParser.string(body, "model");
        if (model == null || model.isBlank()) {
            throw ApiException.badRequest("model", "'model' is required");
        }
        boolean strs = RequestParser.bool(body, "return_token_strs", false);
        if (!chat) {
            String prompt = RequestParser.string(body, "prompt");
            if (prompt == null) {
                throw ApiException.badRequest("prompt", "'prompt' must be a string");
            }
            return new TokenizeRequest(model, prompt, null, ChatTools.NONE, false,
                    RequestParser.bool(body, "add_special_tokens", true), strs);
        }
        return new TokenizeRequest(model, null, RequestParser.messages(body), ChatToolsParser.parse(body),
                RequestParser.bool(body, "add_generation_prompt", true),
                body.has("add_special_tokens") ? RequestParser.bool(body, "add_special_tokens", false) : null, strs);
    }
}
