package dev.bulkhead.server.http;

import dev.bulkhead.model.chat.ChatTemplate;
import dev.bulkhead.model.chat.ChatTemplateException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Renders chat messages into a prompt with the model's own chat template (compiled once per template), or, for a
 * model without one, a plain {@code role: content} transcript ending in {@code assistant:}.
 */
final class ChatPrompts {

    private final Map<String, ChatTemplate> compiled = new ConcurrentHashMap<>();

    String render(Optional<ModelBackend.ChatTemplateSource> template, List<Map<String, Object>> messages) {
        if (template.isEmpty()) {
            return plain(messages);
        }
        ModelBackend.ChatTemplateSource t = template.get();
        try {
            return compiled.computeIfAbsent(t.source(), ChatTemplate::compile)
                    .render(messages, null, true, t.variables());
        } catch (ChatTemplateException e) {
            // NOTE: templates raise on bad conversations (e.g. roles out of order); that is the client's error.
            throw ApiException.badRequest("messages", "the model's chat template rejected the messages: "
                    + e.getMessage());
        }
    }

    private static String plain(List<Map<String, Object>> messages) {
        StringBuilder sb = new StringBuilder();
        for (Map<String, Object> m : messages) {
            sb.append(m.get("role")).append(": ").append(m.get("content")).append('\n');
        }
        return sb.append("assistant:").toString();
    }
}
