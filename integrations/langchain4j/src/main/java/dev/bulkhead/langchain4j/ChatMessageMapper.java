package dev.bulkhead.langchain4j;

import dev.bulkhead.engine.chat.ChatMessages;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.Content;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.UnsupportedFeatureException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** LangChain4j messages as the OpenAI-shaped maps that chat templates (and {@code ChatPrompts}) take. */
final class ChatMessageMapper {

    private ChatMessageMapper() {
    }

    static List<Map<String, Object>> toTemplate(List<ChatMessage> messages) {
        List<Map<String, Object>> out = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            out.add(switch (m) {
                case SystemMessage s -> message("system", s.text());
                case UserMessage u -> message("user", text(u));
                case AiMessage a -> assistant(a);
                case ToolExecutionResultMessage t -> {
                    Map<String, Object> tool = message("tool", t.text());
                    tool.put("tool_call_id", t.id() == null ? "" : t.id());
                    tool.put("name", t.toolName());
                    yield tool;
                }
                default -> throw new UnsupportedFeatureException("Bulkhead chat models take system, user, AI and "
                        + "tool-result messages, not " + m.type());
            });
        }
        return out;
    }

    private static Map<String, Object> message(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content == null ? "" : content);
        return m;
    }

    private static String text(UserMessage u) {
        StringBuilder sb = new StringBuilder();
        for (Content c : u.contents()) {
            if (!(c instanceof TextContent t)) {
                // NOTE: the engine runs text-only decoders; dropping an image silently would answer another question.
                throw new UnsupportedFeatureException("Bulkhead chat models take text only, not " + c.type());
            }
            sb.append(t.text());
        }
        return sb.toString();
    }

    private static Map<String, Object> assistant(AiMessage a) {
        Map<String, Object> m = message("assistant", a.text());
        if (a.hasToolExecutionRequests()) {
            List<Map<String, Object>> calls = new ArrayList<>();
            for (ToolExecutionRequest r : a.toolExecutionRequests()) {
                calls.add(ChatMessages.toolCall(r.id(), r.name(), r.arguments()));
            }
            m.put("tool_calls", calls);
        }
        return m;
    }
}
