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

    /**
     * Whether a chat's rendered prompt is encoded with the tokenizer's special tokens (BOS). A chat template writes
     * the BOS its model expects itself ({@code bos_token}), so its output is encoded without them, as vLLM and
     * transformers do; adding them again would start Llama's, Mistral's or Gemma's prompts with two BOS. The plain
     * transcript used for a model without a template gets them, as any text prompt does. {@code /tokenize} follows
     * this by default, so that its count is the chat's {@code prompt_tokens}.
     */
    static boolean addsSpecialTokens(Optional<ModelBackend.ChatTemplateSource> template) {
        return template.isEmpty();
    }

    /**
     * Renders {@code messages} for a chat completion (ending in the assistant's turn), giving the template
     * {@code tools} when there are any. A model whose template does not take tools cannot be offered them: that is a
     * 400 naming {@code tools}, not a silent drop.
     */
    String render(Optional<ModelBackend.ChatTemplateSource> template, List<Map<String, Object>> messages,
                  ChatTools tools) {
        return render(template, messages, tools, true);
    }

    /**
     * As {@link #render(Optional, List, ChatTools)}; without {@code addGenerationPrompt} no assistant turn is opened.
     */
    String render(Optional<ModelBackend.ChatTemplateSource> template, List<Map<String, Object>> messages,
                  ChatTools tools, boolean addGenerationPrompt) {
        if (template.isEmpty()) {
            if (tools.any()) {
                throw ApiException.badRequest("tools", "this model has no chat template, so it cannot be given tools");
            }
            return plain(messages, addGenerationPrompt);
        }
        ModelBackend.ChatTemplateSource t = template.get();
        if (tools.any() && !t.source().contains("tools")) {
            throw ApiException.badRequest("tools", "this model's chat template does not take tools");
        }
        try {
            return compiled.computeIfAbsent(t.source(), ChatTemplate::compile)
                    .render(messages, tools.any() ? tools.definitions() : null, addGenerationPrompt,
                            t.variables());
        } catch (ChatTemplateException e) {
            // NOTE: templates raise on bad conversations (e.g. roles out of order); that is the client's error.
            throw ApiException.badRequest("messages", "the model's chat template rejected the messages: "
                    + e.getMessage());
        }
    }

    private static String plain(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder();
        for (Map<String, Object> m : messages) {
            sb.append(m.get("role")).append(": ").append(m.get("content")).append('\n');
        }
        return addGenerationPrompt ? sb.append("assistant:").toString() : sb.toString();
    }
}
