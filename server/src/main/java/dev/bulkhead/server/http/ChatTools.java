package dev.bulkhead.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code tools}, {@code tool_choice} and {@code parallel_tool_calls} of a chat request, validated the way
 * OpenAI validates them.
 *
 * @param definitions the tools as the chat template receives them ({@code {"type":"function","function":{...}}})
 * @param names       the functions' names, in order
 * @param choice      {@code none}, {@code auto} or {@code required}; {@code named} when one function is forced
 * @param named       the forced function's name, or null
 * @param parallel    whether several calls may come back in one answer
 */
record ChatTools(List<Map<String, Object>> definitions, Set<String> names, Choice choice, String named,
                 boolean parallel) {

    /** {@code tool_choice}. */
    enum Choice { NONE, AUTO, REQUIRED, NAMED }

    /** No tools: the request did not send any. */
    static final ChatTools NONE = new ChatTools(List.of(), Set.of(), Choice.NONE, null, true);
    /** Most tools per request; OpenAI's limit. */
    static final int MAX_TOOLS = 128;
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Whether the model should be given tools at all. */
    boolean any() {
        return !definitions.isEmpty();
    }

    /** Reads the three fields of {@code body}; absent tools give {@link #NONE}. */
    @SuppressWarnings("unchecked")
    static ChatTools parse(JsonNode body) {
        JsonNode tools = given(body, "tools");
        JsonNode choice = given(body, "tool_choice");
        JsonNode parallel = given(body, "parallel_tool_calls");
        if (parallel != null && !parallel.isBoolean()) {
            throw ApiException.badRequest("parallel_tool_calls", "'parallel_tool_calls' must be a boolean");
        }
        if (tools == null) {
            if (choice != null && !(choice.isTextual() && choice.asText().equals("none"))) {
                throw ApiException.badRequest("tool_choice", "tool_choice needs 'tools'");
            }
            return NONE;
        }
        if (!tools.isArray() || tools.isEmpty() || tools.size() > MAX_TOOLS) {
            throw ApiException.badRequest("tools", "'tools' must be a list of 1 to " + MAX_TOOLS + " tools");
        }
        List<Map<String, Object>> defs = new ArrayList<>(tools.size());
        Set<String> names = new LinkedHashSet<>();
        for (int i = 0; i < tools.size(); i++) {
            String where = "tools[" + i + "]";
            JsonNode t = tools.get(i);
            if (!t.isObject() || !"function".equals(t.path("type").asText()) || !t.path("function").isObject()) {
                throw ApiException.badRequest(where, where + " must be {\"type\": \"function\", \"function\": {...}}");
            }
            RequestParser.knownFields(t, where, Set.of("type", "function"));
            JsonNode f = t.get("function");
            RequestParser.knownFields(f, where + ".function", Set.of("name", "description", "parameters", "strict"));
            String name = f.path("name").asText(null);
            if (!f.path("name").isTextual() || !NAME.matcher(name).matches()) {
                throw ApiException.badRequest(where + ".function.name", where + ".function.name must be 1 to 64 of "
                        + "a-z, A-Z, 0-9, _ and -");
            }
            if (!names.add(name)) {
                throw ApiException.badRequest(where + ".function.name", "two tools are named '" + name + "'");
            }
            if (f.has("description") && !f.get("description").isTextual()) {
                throw ApiException.badRequest(where + ".function.description", "the description must be a string");
            }
            if (f.has("parameters") && !f.get("parameters").isObject()) {
                throw ApiException.badRequest(where + ".function.parameters",
                        "the parameters must be a JSON Schema object");
            }
            if (f.has("strict") && !f.get("strict").isBoolean()) {
                throw ApiException.badRequest(where + ".function.strict", "'strict' must be a boolean");
            }
            defs.add(JSON.convertValue(t, LinkedHashMap.class));
        }
        Choice c = Choice.AUTO;
        String named = null;
        if (choice != null) {
            if (choice.isTextual()) {
                c = switch (choice.asText()) {
                    case "none" -> Choice.NONE;
                    case "auto" -> Choice.AUTO;
                    case "required" -> Choice.REQUIRED;
                    default -> throw ApiException.badRequest("tool_choice",
                            "tool_choice must be 'none', 'auto', 'required' or {\"type\": \"function\", ...}");
                };
            } else if (choice.isObject() && "function".equals(choice.path("type").asText())
                    && choice.path("function").path("name").isTextual()) {
                named = choice.get("function").get("name").asText();
                if (!names.contains(named)) {
                    throw ApiException.badRequest("tool_choice", "tool_choice names '" + named
                            + "', which is not in 'tools'");
                }
                c = Choice.NAMED;
            } else {
                throw ApiException.badRequest("tool_choice",
                        "tool_choice must be 'none', 'auto', 'required' or {\"type\": \"function\", \"function\": "
                                + "{\"name\": ...}}");
            }
        }
        return new ChatTools(List.copyOf(defs), java.util.Collections.unmodifiableSet(names), c, named,
                parallel == null || parallel.asBoolean());
    }

    private static JsonNode given(JsonNode obj, String field) {
        JsonNode n = obj.get(field);
        return n == null || n.isNull() ? null : n;
    }
}
