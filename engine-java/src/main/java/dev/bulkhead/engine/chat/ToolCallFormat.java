package dev.bulkhead.engine.chat;

import java.util.Optional;

/**
 * How a model family writes tool calls in its output, recognised from the chat template that tells it to (the
 * template is the model's own contract for tool use, so it is the best evidence of the format it was tuned on).
 * vLLM names the same formats {@code hermes} and {@code llama3_json}.
 */
public enum ToolCallFormat {

    /** Qwen 2.5/3, Hermes and friends: {@code <tool_call>{"name": ..., "arguments": {...}}</tool_call>}, repeatable. */
    HERMES,

    /**
     * Llama 3.1/3.2/3.3: the whole answer is {@code {"name": ..., "parameters": {...}}} (several joined by
     * {@code ;}), after a {@code <|python_tag|>} that detokenization drops as a special token.
     */
    LLAMA3_JSON;

    /**
     * The format {@code template} asks for.
     *
     * @param template a chat template's Jinja source
     * @return the format, or empty when it shows none that {@link ToolCallExtractor} parses
     */
    public static Optional<ToolCallFormat> of(String template) {
        if (template.contains("<tool_call>")) {
            return Optional.of(HERMES);
        }
        if (template.contains("<|python_tag|>") || template.contains("\"parameters\": dictionary of argument")) {
            return Optional.of(LLAMA3_JSON);
        }
        return Optional.empty();
    }
}
