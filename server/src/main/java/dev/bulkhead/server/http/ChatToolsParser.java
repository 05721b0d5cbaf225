package dev.bulkhead.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.engine.chat.ChatTools;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads the {@code tools}, {@code tool_choice} and {@code parallel_tool_calls} of a chat request into
 * {@link ChatTools}, validated the way OpenAI validates them (a 400 naming the field).
 */
final class ChatToolsParser {

    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");
    private static final ObjectMapper JSON = new ObjectMapper();

    private ChatToolsParser() {
    }

    /** Reads the three fields of {@code body}; absent tools give {@link ChatTools#NONE}. */
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
            return ChatTools.NONE;
        }
        if (!tools.isArray() || tools.isEmpty() || tools.size() > ChatTools.MAX_TOOLS) {
            throw ApiException.badRequest("tools", "'tools' must be a list of 1 to " + ChatTools.MAX_TOOLS + " tools");
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
        ChatTools.Choice c = ChatTools.Choice.AUTO;
        String named = null;
        if (choice != null) {
            if (choice.isTextual()) {
                c = switch (choice.asText()) {
                    case "none" -> ChatTools.Choice.NONE;
                    case "auto" -> ChatTools.Choice.AUTO;
                    case "required" -> ChatTools.Choice.REQUIRED;
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
                c = ChatTools.Choice.NAMED;
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
