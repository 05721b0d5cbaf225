package dev.bulkhead.engine.chat;

/**
 * One function call a model made, as OpenAI's {@code tool_calls[]} carries it.
 *
 * @param id        {@code call_...}, unique within the response
 * @param name      the function's name
 * @param arguments the arguments as JSON text (an object), exactly as clients receive them
 */
public record ToolCall(String id, String name, String arguments) {
}
