package dev.bulkhead.langchain4j;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.chat.ToolCall;
import dev.bulkhead.engine.api.FinishReason;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.TokenUsage;
import java.util.List;

/** An engine {@link Completion} (and the tool calls read from it) as a LangChain4j {@link ChatResponse}. */
final class ChatResponseMapper {

    private ChatResponseMapper() {
    }

    static ChatResponse toResponse(String model, Completion c, String text, List<ToolCall> calls) {
        List<ToolExecutionRequest> requests = calls.stream().map(ChatResponseMapper::toRequest).toList();
        AiMessage message = AiMessage.builder()
                .text(requests.isEmpty() || !text.isBlank() ? text : null)
                .toolExecutionRequests(requests)
                .build();
        return ChatResponse.builder()
                .aiMessage(message)
                .id(c.requestId())
                .modelName(model)
                .tokenUsage(new TokenUsage(c.promptTokenIds().length, c.tokenIds().length))
                .finishReason(finishReason(c.finishReason(), !requests.isEmpty()))
                .build();
    }

    static ToolExecutionRequest toRequest(ToolCall call) {
        return ToolExecutionRequest.builder().id(call.id()).name(call.name()).arguments(call.arguments()).build();
    }

    /**
     * The engine's reason in LangChain4j's terms: an answer that ends in tool calls is {@code TOOL_EXECUTION} (what
     * AiServices acts on), an abort (cancel, deadline) is {@code OTHER}.
     */
    static dev.langchain4j.model.output.FinishReason finishReason(FinishReason reason, boolean calls) {
        if (calls && reason == FinishReason.STOP) {
            return dev.langchain4j.model.output.FinishReason.TOOL_EXECUTION;
        }
        return switch (reason) {
            case STOP -> dev.langchain4j.model.output.FinishReason.STOP;
            case LENGTH -> dev.langchain4j.model.output.FinishReason.LENGTH;
            case ABORT, ERROR -> dev.langchain4j.model.output.FinishReason.OTHER;
        };
    }
}
