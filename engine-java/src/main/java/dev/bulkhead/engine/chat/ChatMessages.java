package dev.bulkhead.engine.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** Pieces of the OpenAI-shaped messages that {@link ChatPrompts} renders, built the way chat templates expect them. */
public final class ChatMessages {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ChatMessages() {
    }

    /**
     * One entry of an assistant message's {@code tool_calls}: {@code {"id", "type": "function", "function": {"name",
     * "arguments"}}}. Arguments that are a JSON object are given to the template as a map, since templates write
     * them with {@code | tojson} (Llama 3) or test {@code is string} (Qwen); any other text stays as it is.
     *
     * @param id        the call's id ({@code call_...}), or null
     * @param name      the function's name
     * @param arguments the arguments as JSON text
     * @return the entry
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> toolCall(String id, String name, String arguments) {
        Object args = arguments;
        try {
            JsonNode parsed = JSON.readTree(arguments);
            if (parsed != null && parsed.isObject()) {
                args = JSON.convertValue(parsed, LinkedHashMap.class);
            }
        } catch (IOException e) {
            // NOTE: kept as the text it is; the template decides what to do with it.
        }
        Map<String, Object> fn = new LinkedHashMap<>();
        fn.put("name", name);
        fn.put("arguments", args);
        Map<String, Object> call = new LinkedHashMap<>();
        call.put("id", id == null ? "" : id);
        call.put("type", "function");
        call.put("function", fn);
        return call;
    }
}
