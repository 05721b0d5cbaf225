package dev.bulkhead.model.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Byte-exact conformance with transformers' apply_chat_template on the 56 reference renders in
 * shared/chat-templates/cases.json (produced by Jinja2, an independent reference).
 */
class ChatTemplateConformanceTest {

  /** strftime_now is pinned to this date in the reference renders. */
  static final Clock PINNED = Clock.fixed(Instant.parse("2026-11-25T12:00:00Z"), ZoneOffset.UTC);

  static Path casesDir() {
    return Path.of(System.getProperty("bulkhead.shared.dir", "../../shared"), "chat-templates");
  }

  static Stream<Arguments> cases() throws IOException {
    Path file = casesDir().resolve("cases.json");
    Assumptions.assumeTrue(Files.exists(file), "shared chat-template cases missing: " + file);
    List<Map<String, Object>> cases =
        new ObjectMapper().readValue(file.toFile(), new TypeReference<List<Map<String, Object>>>() {});
    return IntStream.range(0, cases.size())
        .mapToObj(i -> {
          Map<String, Object> c = cases.get(i);
          String name = i + " " + c.get("template") + " " + c.get("conversation")
              + (Boolean.TRUE.equals(c.get("add_generation_prompt")) ? " +gen" : "")
              + (c.get("tools") != null ? " +tools" : "");
          return Arguments.of(Named.of(name, c));
        });
  }

  @SuppressWarnings("unchecked")
  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void rendersExactlyLikeTransformers(Map<String, Object> c) throws IOException {
    String source = Files.readString(casesDir().resolve(c.get("template") + ".jinja"));
    ChatTemplate template = ChatTemplate.compile(source).withClock(PINNED);
    List<Map<String, Object>> messages = (List<Map<String, Object>>) c.get("messages");
    List<Map<String, Object>> tools = (List<Map<String, Object>>) c.get("tools");
    boolean addGenerationPrompt = (Boolean) c.get("add_generation_prompt");
    Map<String, Object> special = new HashMap<>((Map<String, Object>) c.get("special_tokens"));
    if (c.containsKey("expected_error")) {
      String expected = (String) c.get("expected_error");
      String text = expected.substring(expected.indexOf(": ") + 2);
      assertThatThrownBy(() -> template.render(messages, tools, addGenerationPrompt, special))
          .isInstanceOf(ChatTemplateException.class)
          .hasMessage(text);
    } else {
      assertThat(template.render(new ArrayList<>(messages), tools, addGenerationPrompt, special))
          .isEqualTo((String) c.get("expected"));
    }
  }
}
