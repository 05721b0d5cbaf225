package dev.bulkhead.langchain4j;

import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.chat.ToolCalls;

/**
 * A chat request ready for the engine.
 *
 * @param model   the model (or router alias) that answers
 * @param request the rendered, tokenized prompt with its sampling settings
 * @param tools   how the answer is read for tool calls
 */
record PreparedChat(String model, GenerateRequest request, ToolCalls tools) {
}
