package dev.bulkhead.model.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Loading templates and special tokens from tokenizer_config.json. */
class ChatTemplatesTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  static Stream<Arguments> realTokenizers() throws IOException {
    return StreamSupport.stream(
            ChatTemplateFeatureTest.reference().get("tokenizer_cases").spliterator(), false)
        .map(c -> Arguments.of(Named.of(c.get("folder").asText() + (c.get("tools").isNull() ? "" : " +tools"), c)));
  }

  @SuppressWarnings("unchecked")
  @ParameterizedTest(name = "{0}")
  @MethodSource("realTokenizers")
  void loadsAndRendersRealTokenizerConfigs(JsonNode c) {
    Path config = Path.of(System.getProperty("bulkhead.shared.dir", "../../shared"), "models",
        c.get("folder").asText(), "tokenizer_config.json");
    Assumptions.assumeTrue(Files.exists(config), "shared tokenizer missing: " + config);

    Optional<LoadedChatTemplate> loaded = ChatTemplates.fromTokenizerConfig(config);

    assertThat(loaded).isPresent();
    assertThat(loaded.get().specialTokens()).containsKey("eos_token");
    List<Map<String, Object>> messages = JSON.convertValue(c.get("messages"), List.class);
    List<Map<String, Object>> tools = c.get("tools").isNull() ? null : JSON.convertValue(c.get("tools"), List.class);
    assertThat(loaded.get().render(messages, tools, true, null)).isEqualTo(c.get("expected").asText());
  }

  @Test
  void specialTokensComeFromStringsOrAddedTokenObjects(@TempDir Path dir) throws IOException {
    Path config = write(dir, """
        {"chat_template": "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}",
         "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false},
         "eos_token": "</s>", "pad_token": null}""");

    LoadedChatTemplate loaded = ChatTemplates.fromTokenizerConfig(config).orElseThrow();

    assertThat(loaded.specialTokens()).isEqualTo(Map.of("bos_token", "<s>", "eos_token", "</s>"));
    assertThat(loaded.render(List.of(Map.of("role", "user", "content", "hi")), null, false, null))
        .isEqualTo("<s>hi</s>");
    assertThat(loaded.render(List.of(Map.of("role", "user", "content", "hi")), null, false,
        Map.of("eos_token", "[override]"))).isEqualTo("<s>hi[override]");
  }

  @Test
  void listFormPicksTheDefaultTemplate(@TempDir Path dir) throws IOException {
    Path config = write(dir, """
        {"chat_template": [{"name": "tool_use", "template": "TOOLS"},
                           {"name": "default", "template": "DEFAULT"}]}""");

    assertThat(ChatTemplates.fromTokenizerConfig(config).orElseThrow().render(List.of(), null, false, null))
        .isEqualTo("DEFAULT");
  }

  @Test
  void listFormWithoutDefaultIsAnError(@TempDir Path dir) throws IOException {
    Path config = write(dir, """
        {"chat_template": [{"name": "a", "template": "A"}, {"name": "b", "template": "B"}]}""");

    assertThatThrownBy(() -> ChatTemplates.fromTokenizerConfig(config))
        .isInstanceOf(ChatTemplateException.class)
        .hasMessageContaining("default")
        .hasMessageContaining(config.toString());
  }

  @Test
  void missingTemplateIsEmptyUnlessAChatTemplateJinjaFileIsBeside(@TempDir Path dir) throws IOException {
    Path config = write(dir, "{\"eos_token\": \"</s>\"}");
    assertThat(ChatTemplates.fromTokenizerConfig(config)).isEmpty();

    Files.writeString(dir.resolve("chat_template.jinja"), "{{ messages | length }}\n");
    assertThat(ChatTemplates.fromTokenizerConfig(config).orElseThrow().render(List.of(Map.of()), null, false, null))
        .isEqualTo("1");
  }

  @Test
  void badJsonNamesTheFile(@TempDir Path dir) throws IOException {
    Path config = write(dir, "{\"chat_template\": ");

    assertThatThrownBy(() -> ChatTemplates.fromTokenizerConfig(config))
        .isInstanceOf(ChatTemplateException.class)
        .hasMessageContaining(config.toString());
  }

  @Test
  void templateSyntaxErrorNamesTheFile(@TempDir Path dir) throws IOException {
    Path config = write(dir, "{\"chat_template\": \"{% for m in messages %}\"}");

    assertThatThrownBy(() -> ChatTemplates.fromTokenizerConfig(config))
        .isInstanceOf(ChatTemplateException.class)
        .hasMessageContaining(config.toString())
        .hasMessageContaining("never closed");
  }

  private static Path write(Path dir, String json) throws IOException {
    Path file = dir.resolve("tokenizer_config.json");
    Files.writeString(file, json);
    return file;
  }
}
