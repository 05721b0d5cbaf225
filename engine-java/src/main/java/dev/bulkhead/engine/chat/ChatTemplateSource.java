package dev.bulkhead.engine.chat;

import dev.bulkhead.model.LoadedModel;
import java.util.Map;
import java.util.Optional;

/**
 * A chat template and its variables ({@code bos_token}, ...).
 *
 * @param source    Jinja source
 * @param variables extra template variables
 */
public record ChatTemplateSource(String source, Map<String, Object> variables) {

    /** The template {@code model} ships, with its special tokens as variables; empty when it has none. */
    public static Optional<ChatTemplateSource> of(LoadedModel model) {
        return model.chatTemplate().map(t -> new ChatTemplateSource(t, model.specialTokens()));
    }
}
