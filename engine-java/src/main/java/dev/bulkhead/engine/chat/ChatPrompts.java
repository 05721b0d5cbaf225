package dev.bulkhead.engine.chat;

import dev.bulkhead.engine.InvalidRequestException;
import dev.bulkhead.model.chat.ChatTemplate;
import dev.bulkhead.model.chat.ChatTemplateException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Renders chat messages into a prompt with the model's own chat template (compiled once per template), or, for a
 * model without one, a plain {@code role: content} transcript ending in {@code assistant:}. Thread safe: one
 * instance serves every request of a server or of a chat model.
 */
public final class ChatPrompts {

    private final Map<String, ChatTemplate> compiled = new ConcurrentHashMap<>();

    /** A renderer with an empty cache of compiled templates. */
    public ChatPrompts() {
    }

    /**
     * Whether a chat's rendered prompt is encoded with the tokenizer's special tokens (BOS). A chat template writes
     * the BOS its model expects itself ({@code bos_token}), so its output is encoded without them, as vLLM and
     * transformers do; adding them again would start Llama's, Mistral's or Gemma's prompts with two BOS. The plain
     * transcript used for a model without a template gets them, as any text prompt does. The server's
     * {@code /tokenize} follows this by default, so that its count is the chat's {@code prompt_tokens}.
     *
     * @param template the model's template, or empty
     * @return true when the rendered text is encoded with special tokens
     */
    public static boolean addsSpecialTokens(Optional<ChatTemplateSource> template) {
        return template.isEmpty();
    }

    /**
     * Renders {@code messages} for a chat completion (ending in the assistant's turn), giving the template
     * {@code tools} when there are any. A model whose template does not take tools cannot be offered them: that is an
     * {@link InvalidRequestException} naming {@code tools}, not a silent drop.
     *
     * @param template the model's template ({@link ChatTemplateSource#of}), or empty for a plain transcript
     * @param messages OpenAI-shaped messages ({@code role}, {@code content}, {@code tool_calls}, ...)
     * @param tools    the tools offered, or {@link ChatTools#NONE}
     * @return the prompt text, to encode with special tokens only when {@link #addsSpecialTokens} says so
     * @throws InvalidRequestException (field {@code tools} or {@code messages}) when it cannot be rendered
     */
    public String render(Optional<ChatTemplateSource> template, List<Map<String, Object>> messages, ChatTools tools) {
        return render(template, messages, tools, true);
    }

    /**
     * As {@link #render(Optional, List, ChatTools)}; without {@code addGenerationPrompt} no assistant turn is opened.
     *
     * @param template            the model's template, or empty for a plain transcript
     * @param messages            OpenAI-shaped messages
     * @param tools               the tools offered, or {@link ChatTools#NONE}
     * @param addGenerationPrompt whether to open the assistant's turn
     * @return the prompt text
     */
    public String render(Optional<ChatTemplateSource> template, List<Map<String, Object>> messages, ChatTools tools,
                         boolean addGenerationPrompt) {
        if (template.isEmpty()) {
            if (tools.any()) {
                throw new InvalidRequestException("tools", "this model has no chat template, so it cannot be given "
                        + "tools");
            }
            return plain(messages, addGenerationPrompt);
        }
        ChatTemplateSource t = template.get();
        if (tools.any() && !t.source().contains("tools")) {
            throw new InvalidRequestException("tools", "this model's chat template does not take tools");
        }
        try {
            return compiled.computeIfAbsent(t.source(), ChatTemplate::compile)
                    .render(messages, tools.any() ? tools.definitions() : null, addGenerationPrompt,
                            t.variables());
        } catch (ChatTemplateException e) {
            // NOTE: templates raise on bad conversations (e.g. roles out of order); that is the caller's error.
            throw new InvalidRequestException("messages", "the model's chat template rejected the messages: "
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
