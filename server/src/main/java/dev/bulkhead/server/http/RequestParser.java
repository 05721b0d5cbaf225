package dev.bulkhead.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bulkhead.engine.InvalidRequestException;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.chat.ChatMessages;
import dev.bulkhead.engine.chat.ChatTools;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a JSON body into an {@link OpenAiRequest}, field by field, so every error names its field: unknown
 * fields, wrong types and out-of-range values are 400s with {@code param} set. {@code null} means "not given",
 * as in OpenAI's API. Besides OpenAI's fields it takes vLLM's {@code top_k}, {@code min_p},
 * {@code repetition_penalty}, {@code ignore_eos} and {@code stop_token_ids}.
 */
final class RequestParser {

    private static final Set<String> COMMON = Set.of("model", "stream", "stream_options", "stop", "seed",
            "max_tokens", "temperature", "top_p", "presence_penalty", "frequency_penalty", "n", "logprobs",
            "top_logprobs", "user", "top_k", "min_p", "repetition_penalty", "ignore_eos", "stop_token_ids");
    private static final Set<String> COMPLETION_ONLY = Set.of("prompt");
    private static final Set<String> CHAT_ONLY = Set.of("messages", "max_completion_tokens", "tools", "tool_choice",
            "parallel_tool_calls", "response_format");
    /** Most choices per request. */
    static final int MAX_N = 8;
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

    private RequestParser() {
    }

    static OpenAiRequest parse(JsonNode body, boolean chat) {
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!COMMON.contains(f) && !(chat ? CHAT_ONLY : COMPLETION_ONLY).contains(f)) {
                throw ApiException.badRequest(f, "unknown field '" + f + "'");
            }
        }
        WellFormedText.require(body);
        String model = string(body, "model");
        if (model == null || model.isBlank()) {
            throw ApiException.badRequest("model", "'model' is required");
        }
        Integer given = integer(body, "n");
        int n = given == null ? 1 : given;
        if (n < 1 || n > MAX_N) {
            throw ApiException.badRequest("n", "n must be in [1, " + MAX_N + "], got " + n);
        }
        int logprobs = logprobs(body, chat);
        boolean stream = bool(body, "stream", false);
        boolean includeUsage = false;
        JsonNode options = given(body, "stream_options");
        if (options != null) {
            if (!options.isObject()) {
                throw ApiException.badRequest("stream_options", "'stream_options' must be an object");
            }
            for (Iterator<String> it = options.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!f.equals("include_usage")) {
                    throw ApiException.badRequest("stream_options", "unknown field 'stream_options." + f + "'");
                }
            }
            includeUsage = bool(options, "include_usage", false);
        }
        string(body, "user"); // NOTE: accepted for compatibility, type-checked, and not used.
        SamplingParams sampling = sampling(body, chat, logprobs);
        if (chat) {
            return new OpenAiRequest(true, model, List.of(), messages(body), sampling, n, stream, includeUsage,
                    ChatToolsParser.parse(body));
        }
        JsonNode prompt = given(body, "prompt");
        if (prompt == null) {
            throw ApiException.badRequest("prompt", "'prompt' is required");
        }
        List<CompletionPrompt> prompts = CompletionPrompts.parse(prompt);
        CompletionPrompts.checkChoices(prompts, n);
        return new OpenAiRequest(false, model, prompts, null, sampling, n, stream, includeUsage, ChatTools.NONE);
    }

    /**
     * The engine's {@code logprobs} setting: chat takes {@code logprobs: true} with {@code top_logprobs} alternatives,
     * completions take {@code logprobs: N} alternatives (OpenAI allows 5; this allows up to 20, as vLLM does).
     */
    private static int logprobs(JsonNode body, boolean chat) {
        JsonNode lp = given(body, "logprobs");
        Integer top = integer(body, "top_logprobs");
        if (top != null && (top < 0 || top > SamplingParams.MAX_LOGPROBS)) {
            throw ApiException.badRequest("top_logprobs", "top_logprobs must be in [0, " + SamplingParams.MAX_LOGPROBS
                    + "], got " + top);
        }
        if (chat) {
            boolean on = bool(body, "logprobs", false);
            if (!on && top != null && top > 0) {
                throw ApiException.badRequest("top_logprobs", "top_logprobs needs logprobs: true");
            }
            return on ? (top == null ? 0 : top) : SamplingParams.LOGPROBS_OFF;
        }
        if (top != null && top > 0) {
            throw ApiException.badRequest("top_logprobs", "top_logprobs is a chat field; completions take logprobs: N");
        }
        if (lp == null || (lp.isBoolean() && !lp.asBoolean())) {
            return SamplingParams.LOGPROBS_OFF;
        }
        Integer n = integer(body, "logprobs");
        if (n < 0 || n > SamplingParams.MAX_LOGPROBS) {
            throw ApiException.badRequest("logprobs", "logprobs must be in [0, " + SamplingParams.MAX_LOGPROBS
                    + "], got " + n);
        }
        return n;
    }

    private static SamplingParams sampling(JsonNode body, boolean chat, int logprobs) {
        SamplingParams.Builder b = SamplingParams.builder();
        b.logprobs(logprobs);
        Integer maxTokens = integer(body, "max_tokens");
        if (chat) {
            Integer mct = integer(body, "max_completion_tokens");
            if (mct != null) {
                if (mct < 1) {
                    throw ApiException.badRequest("max_completion_tokens",
                            "max_completion_tokens must be >= 1, got " + mct);
                }
                maxTokens = mct;
            }
        }
        if (maxTokens != null) {
            b.maxTokens(maxTokens);
        }
        Float temperature = number(body, "temperature");
        b.temperature(temperature == null ? 1f : temperature);
        Float v = number(body, "top_p");
        if (v != null) {
            b.topP(v);
        }
        if ((v = number(body, "presence_penalty")) != null) {
            b.presencePenalty(v);
        }
        if ((v = number(body, "frequency_penalty")) != null) {
            b.frequencyPenalty(v);
        }
        if ((v = number(body, "min_p")) != null) {
            b.minP(v);
        }
        if ((v = number(body, "repetition_penalty")) != null) {
            b.repetitionPenalty(v);
        }
        Integer topK = integer(body, "top_k");
        if (topK != null) {
            b.topK(topK);
        }
        JsonNode seed = given(body, "seed");
        if (seed != null) {
            if (!seed.isIntegralNumber() || !seed.canConvertToLong()) {
                throw ApiException.badRequest("seed", "'seed' must be an integer");
            }
            b.seed(seed.asLong());
        }
        b.stop(stops(body));
        JsonNode ids = given(body, "stop_token_ids");
        if (ids != null) {
            b.stopTokenIds(intArray(ids, "stop_token_ids"));
        }
        b.ignoreEos(bool(body, "ignore_eos", false));
        if (chat) {
            b.guidedDecoding(ResponseFormats.parse(body.get("response_format")));
        }
        try {
            return b.build();
        } catch (InvalidRequestException e) {
            throw ApiException.badRequest(e.field(), e.getMessage());
        }
    }

    private static List<String> stops(JsonNode body) {
        JsonNode stop = given(body, "stop");
        if (stop == null) {
            return List.of();
        }
        if (stop.isTextual()) {
            return List.of(stop.asText());
        }
        if (!stop.isArray()) {
            throw ApiException.badRequest("stop", "'stop' must be a string or a list of strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode s : stop) {
            if (!s.isTextual()) {
                throw ApiException.badRequest("stop", "'stop' must be a string or a list of strings");
            }
            out.add(s.asText());
        }
        return out;
    }

    /** The {@code messages} of {@code body}, validated, as chat templates read them. */
    static List<Map<String, Object>> messages(JsonNode body) {
        JsonNode msgs = given(body, "messages");
        if (msgs == null || !msgs.isArray() || msgs.isEmpty()) {
            throw ApiException.badRequest("messages", "'messages' must be a non-empty list of messages");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < msgs.size(); i++) {
            JsonNode m = msgs.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject()) {
                throw ApiException.badRequest(where, where + " must be an object");
            }
            Map<String, Object> msg = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                switch (e.getKey()) {
                    case "role" -> {
                        if (!e.getValue().isTextual() || !ROLES.contains(e.getValue().asText())) {
                            throw ApiException.badRequest(where + ".role", where + ".role must be one of " + ROLES);
                        }
                        msg.put("role", e.getValue().asText());
                    }
                    case "content" -> msg.put("content", content(e.getValue(), where + ".content"));
                    case "name" -> {
                        if (!e.getValue().isTextual()) {
                            throw ApiException.badRequest(where + ".name", where + ".name must be a string");
                        }
                        msg.put("name", e.getValue().asText());
                    }
                    case "tool_call_id" -> {
                        if (!e.getValue().isTextual()) {
                            throw ApiException.badRequest(where + ".tool_call_id", where
                                    + ".tool_call_id must be a string");
                        }
                        msg.put("tool_call_id", e.getValue().asText());
                    }
                    case "tool_calls" -> {
                        if (!e.getValue().isNull()) {
                            msg.put("tool_calls", toolCalls(e.getValue(), where + ".tool_calls"));
                        }
                    }
                    default -> throw ApiException.badRequest(where + "." + e.getKey(),
                            "unknown field '" + where + "." + e.getKey() + "'");
                }
            }
            if (!msg.containsKey("role")) {
                throw ApiException.badRequest(where + ".role", where + ".role is required");
            }
            if (msg.containsKey("tool_calls") && !"assistant".equals(msg.get("role"))) {
                throw ApiException.badRequest(where + ".tool_calls", "only assistant messages carry tool_calls");
            }
            if ("tool".equals(msg.get("role")) && !msg.containsKey("tool_call_id")) {
                throw ApiException.badRequest(where + ".tool_call_id", "a tool message needs tool_call_id");
            }
            msg.putIfAbsent("content", "");
            out.add(msg);
        }
        return out;
    }

    /**
     * An assistant turn's earlier calls, as templates read them: {@code function.arguments} becomes the object it
     * encodes when it is a JSON object (Llama's template writes it with {@code tojson}, Qwen's takes either), as vLLM
     * does before rendering.
     */
    private static List<Map<String, Object>> toolCalls(JsonNode calls, String where) {
        if (!calls.isArray()) {
            throw ApiException.badRequest(where, where + " must be a list of tool calls");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < calls.size(); i++) {
            JsonNode c = calls.get(i);
            String at = where + "[" + i + "]";
            JsonNode f = c.path("function");
            if (!c.isObject() || !f.path("name").isTextual() || !f.path("arguments").isTextual()) {
                throw ApiException.badRequest(at, at + " must be {\"id\": ..., \"type\": \"function\", \"function\": "
                        + "{\"name\": ..., \"arguments\": \"<JSON text>\"}}");
            }
            out.add(ChatMessages.toolCall(c.path("id").asText(""), f.get("name").asText(),
                    f.get("arguments").asText()));
        }
        return out;
    }

    /** A string, or a list of {@code {"type":"text","text":...}} parts joined (other part types are rejected). */
    private static String content(JsonNode c, String where) {
        if (c.isNull()) {
            return "";
        }
        if (c.isTextual()) {
            return c.asText();
        }
        if (c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : c) {
                if (!part.isObject() || !"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw ApiException.badRequest(where, where + " parts must be {\"type\":\"text\",\"text\":...}"
                            + " (other content types are not supported)");
                }
                sb.append(part.get("text").asText());
            }
            return sb.toString();
        }
        throw ApiException.badRequest(where, where + " must be a string or a list of text parts");
    }

    /** A 400 naming {@code where.f} for the first field {@code f} of {@code obj} not in {@code allowed}. */
    static void knownFields(JsonNode obj, String where, Set<String> allowed) {
        for (Iterator<String> it = obj.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                throw ApiException.badRequest(where + "." + f, "unknown field '" + where + "." + f + "'");
            }
        }
    }

    static JsonNode given(JsonNode obj, String field) {
        JsonNode n = obj.get(field);
        return n == null || n.isNull() ? null : n;
    }

    static String string(JsonNode obj, String field) {
        JsonNode n = given(obj, field);
        if (n == null) {
            return null;
        }
        if (!n.isTextual()) {
            throw ApiException.badRequest(field, "'" + field + "' must be a string, got " + kind(n));
        }
        return n.asText();
    }

    static boolean bool(JsonNode obj, String field, boolean dflt) {
        JsonNode n = given(obj, field);
        if (n == null) {
            return dflt;
        }
        if (!n.isBoolean()) {
            throw ApiException.badRequest(field, "'" + field + "' must be a boolean, got " + kind(n));
        }
        return n.asBoolean();
    }

    private static Integer integer(JsonNode obj, String field) {
        JsonNode n = given(obj, field);
        if (n == null) {
            return null;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw ApiException.badRequest(field, "'" + field + "' must be a 32-bit integer, got " + kind(n));
        }
        return n.asInt();
    }

    private static Float number(JsonNode obj, String field) {
        JsonNode n = given(obj, field);
        if (n == null) {
            return null;
        }
        if (!n.isNumber()) {
            throw ApiException.badRequest(field, "'" + field + "' must be a number, got " + kind(n));
        }
        return (float) n.asDouble();
    }

    private static int[] intArray(JsonNode arr, String field) {
        if (!arr.isArray()) {
            throw ApiException.badRequest(field, "'" + field + "' must be a list of integers");
        }
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode x = arr.get(i);
            if (!x.isIntegralNumber() || !x.canConvertToInt()) {
                throw ApiException.badRequest(field, "'" + field + "' must be a list of integers");
            }
            out[i] = x.asInt();
        }
        return out;
    }

    static String kind(JsonNode n) {
        return switch (n.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case ARRAY -> "a list";
            case OBJECT -> "an object";
            default -> n.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
