package dev.bulkhead.model.chat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A chat template loaded from a tokenizer's configuration, with the special-token variables
 * ({@code bos_token}, {@code eos_token}, ...) that transformers passes to it.
 *
 * @param template the compiled template
 * @param specialTokens special-token variables by name, as plain strings
 */
public record LoadedChatTemplate(ChatTemplate template, Map<String, Object> specialTokens) {

  /** Validates and copies. */
  public LoadedChatTemplate {
    Objects.requireNonNull(template, "template");
    specialTokens = Map.copyOf(Objects.requireNonNull(specialTokens, "specialTokens"));
  }

  /**
   * Renders with the special tokens bound; entries of {@code extraVariables} override them.
   *
   * @see ChatTemplate#render(List, List, boolean, Map)
   */
  public String render(
      List<Map<String, Object>> messages,
      List<Map<String, Object>> tools,
      boolean addGenerationPrompt,
      Map<String, Object> extraVariables) {
    Map<String, Object> variables = new HashMap<>(specialTokens);
    if (extraVariables != null) {
      variables.putAll(extraVariables);
    }
    return template.render(messages, tools, addGenerationPrompt, variables);
  }
}
