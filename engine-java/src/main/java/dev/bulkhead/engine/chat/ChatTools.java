package dev.bulkhead.engine.chat;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The tools offered to a chat and how the model may use them: OpenAI's {@code tools}, {@code tool_choice} and
 * {@code parallel_tool_calls}. The server reads them from a request body; an in-process caller builds them with
 * {@link #of}.
 *
 * @param definitions the tools as the chat template receives them ({@code {"type":"function","function":{...}}})
 * @param names       the functions' names, in order
 * @param choice      {@code none}, {@code auto} or {@code required}; {@code named} when one function is forced
 * @param named       the forced function's name, or null
 * @param parallel    whether several calls may come back in one answer
 */
public record ChatTools(List<Map<String, Object>> definitions, Set<String> names, Choice choice, String named,
                        boolean parallel) {

    /** {@code tool_choice}. */
    public enum Choice {
        /** The model must answer in text. */
        NONE,
        /** The model decides between text and calls. */
        AUTO,
        /** The model must call one of the tools. */
        REQUIRED,
        /** The model must call the function {@link ChatTools#named()}. */
        NAMED
    }

    /** No tools: the request did not send any. */
    public static final ChatTools NONE = new ChatTools(List.of(), Set.of(), Choice.NONE, null, true);
    /** Most tools per request; OpenAI's limit. */
    public static final int MAX_TOOLS = 128;

    /**
     * Tools from their definitions, each {@code {"type": "function", "function": {"name": ..., "description": ...,
     * "parameters": <JSON Schema as maps>}}}.
     *
     * @param definitions the tools, at least one
     * @param choice      how the model may use them ({@link Choice#NAMED} needs {@code named})
     * @param named       the forced function for {@link Choice#NAMED}, else null
     * @param parallel    whether several calls may come back in one answer
     * @return the tools, names taken from the definitions
     * @throws IllegalArgumentException when a definition has no name, two share one, or {@code named} is not one
     */
    @SuppressWarnings("unchecked")
    public static ChatTools of(List<Map<String, Object>> definitions, Choice choice, String named, boolean parallel) {
        Set<String> names = new LinkedHashSet<>();
        for (Map<String, Object> d : definitions) {
            Object f = d.get("function");
            Object name = f instanceof Map<?, ?> m ? ((Map<String, Object>) m).get("name") : null;
            if (!(name instanceof String s) || !names.add(s)) {
                throw new IllegalArgumentException("each tool needs a function name of its own: " + d);
            }
        }
        if (choice == Choice.NAMED && !names.contains(named)) {
            throw new IllegalArgumentException("the forced function '" + named + "' is not among the tools " + names);
        }
        return new ChatTools(List.copyOf(definitions), Collections.unmodifiableSet(names),
                Objects.requireNonNull(choice, "choice"), named, parallel);
    }

    /**
     * Whether the model should be given tools at all.
     *
     * @return true when there is at least one tool
     */
    public boolean any() {
        return !definitions.isEmpty();
    }
}
