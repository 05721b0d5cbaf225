package dev.bulkhead.model.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Loads chat templates from Hugging Face tokenizer files. */
public final class ChatTemplates {

  /** The special tokens transformers exposes to templates, when the config defines them. */
  private static final List<String> SPECIAL_TOKENS =
      List.of("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
          "mask_token");

  private static final ObjectMapper JSON = new ObjectMapper();

  private ChatTemplates() {}

  /**
   * Reads the chat template of a tokenizer: {@code chat_template} in {@code tokenizer_config.json}
   * (a string, or a list of {@code {name, template}} from which "default" is taken), else a
   * {@code chat_template.jinja} file beside it, as newer transformers versions save it.
   *
   * @param tokenizerConfigJson path of {@code tokenizer_config.json}
   * @return the template and its special tokens, or empty when the tokenizer has no chat template
   * @throws ChatTemplateException when the file cannot be read or parsed (naming the file), or the
   *     template does not compile
   */
  public static Optional<LoadedChatTemplate> fromTokenizerConfig(Path tokenizerConfigJson) {
    JsonNode config;
    try {
      config = JSON.readTree(tokenizerConfigJson.toFile());
    } catch (IOException e) {
      throw new ChatTemplateException(
          "Cannot read tokenizer config " + tokenizerConfigJson + ": " + e.getMessage(), e);
    }
    if (config == null || !config.isObject()) {
      throw new ChatTemplateException(
          "Tokenizer config " + tokenizerConfigJson + " is not a JSON object");
    }
    Optional<String> source = templateSource(config, tokenizerConfigJson);
    if (source.isEmpty()) {
      return Optional.empty();
    }
    ChatTemplate template;
    try {
      template = ChatTemplate.compile(source.get());
    } catch (ChatTemplateException e) {
      throw new ChatTemplateException(
          "Chat template in " + tokenizerConfigJson + " does not compile: " + e.getMessage(), e);
    }
    return Optional.of(new LoadedChatTemplate(template, specialTokens(config)));
  }

  private static Optional<String> templateSource(JsonNode config, Path file) {
    JsonNode node = config.get("chat_template");
    if (node == null || node.isNull()) {
      Path sibling = file.resolveSibling("chat_template.jinja");
      if (!Files.isRegularFile(sibling)) {
        return Optional.empty();
      }
      try {
        return Optional.of(Files.readString(sibling));
      } catch (IOException e) {
        throw new ChatTemplateException("Cannot read chat template " + sibling + ": " + e.getMessage(), e);
      }
    }
    if (node.isTextual()) {
      return Optional.of(node.asText());
    }
    if (node.isArray()) {
      Map<String, String> byName = new LinkedHashMap<>();
      for (JsonNode entry : node) {
        if (entry.path("name").isTextual() && entry.path("template").isTextual()) {
          byName.put(entry.get("name").asText(), entry.get("template").asText());
        }
      }
      if (byName.containsKey("default")) {
        return Optional.of(byName.get("default"));
      }
      if (byName.size() == 1) {
        return Optional.of(byName.values().iterator().next());
      }
      throw new ChatTemplateException(
          "Tokenizer config " + file + " has chat templates " + byName.keySet()
              + " but none named \"default\"");
    }
    throw new ChatTemplateException(
        "Tokenizer config " + file + ": chat_template must be a string or a list of"
            + " {name, template}, got " + node.getNodeType());
  }

  /** Special tokens, written either as strings or as AddedToken objects with a content field. */
  private static Map<String, Object> specialTokens(JsonNode config) {
    Map<String, Object> tokens = new LinkedHashMap<>();
    for (String name : SPECIAL_TOKENS) {
      JsonNode node = config.get(name);
      if (node == null) {
        continue;
      }
      if (node.isTextual()) {
        tokens.put(name, node.asText());
      } else if (node.isObject() && node.path("content").isTextual()) {
        tokens.put(name, node.get("content").asText());
      }
    }
    return tokens;
  }
}
