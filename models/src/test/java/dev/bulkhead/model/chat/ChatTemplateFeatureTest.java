package dev.bulkhead.model.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Jinja2 features one by one. Expected outputs come from real Jinja2 (see
 * make_jinja2_reference.py beside jinja2-reference.json), configured as transformers configures it.
 */
class ChatTemplateFeatureTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  static JsonNode reference() throws IOException {
    try (InputStream in = ChatTemplateFeatureTest.class.getResourceAsStream("jinja2-reference.json")) {
      return JSON.readTree(in);
    }
  }

  static Stream<Arguments> snippets() throws IOException {
    return StreamSupport.stream(reference().get("cases").spliterator(), false)
        .map(c -> Arguments.of(Named.of(c.get("name").asText(), c)));
  }

  @SuppressWarnings("unchecked")
  @ParameterizedTest(name = "{0}")
  @MethodSource("snippets")
  void matchesJinja2(JsonNode c) throws IOException {
    List<Map<String, Object>> messages = JSON.convertValue(reference().get("messages"), List.class);
    ChatTemplate template =
        ChatTemplate.compile(c.get("template").asText()).withClock(ChatTemplateConformanceTest.PINNED);
    Map<String, Object> vars = Map.of("x", 1);
    if (c.has("expected")) {
      assertThat(template.render(messages, null, true, vars)).isEqualTo(c.get("expected").asText());
      return;
    }
    String error = c.get("expected_error").asText();
    String text = error.substring(error.indexOf(": ") + 2);
    if (error.startsWith("TemplateError: ")) {
      // NOTE: raise_exception's text is the whole message, as transformers surfaces it.
      assertThatThrownBy(() -> template.render(messages, null, true, vars))
          .isInstanceOf(ChatTemplateException.class)
          .hasMessage(text);
    } else {
      String keyword = text.replaceAll(".*'(\\w+)'.*", "$1").replaceAll(".*(concatenate).*", "$1");
      assertThatThrownBy(() -> template.render(messages, null, true, vars))
          .isInstanceOf(ChatTemplateException.class)
          .hasMessageContaining(keyword);
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{% if true %}never closed",
        "{% for x in y %}{% endif %}",
        "{% endfor %}",
        "{{ 1 + }}",
        "{{ 'unterminated }}",
        "{% frobnicate %}",
        "{{ a b }}",
        "{% set = 1 %}",
        "{{ x",
        "{% include 'other.jinja' %}"
      })
  void syntaxErrorsFailAtCompileWithALine(String source) {
    assertThatThrownBy(() -> ChatTemplate.compile(source))
        .isInstanceOf(ChatTemplateException.class)
        .hasMessageContaining("line 1");
  }

  @Test
  void syntaxErrorNamesTheLineOfTheFault() {
    assertThatThrownBy(() -> ChatTemplate.compile("ok\n{{ 1 }}\n{% if x %}\n{{ x[ }}\n{% endif %}"))
        .isInstanceOf(ChatTemplateException.class)
        .hasMessageContaining("line 4");
  }

  @Test
  void userContentIsNeverInterpretedAsTemplate() {
    ChatTemplate t = ChatTemplate.compile("{% for m in messages %}{{ m.content }}{% endfor %}");
    String hostile = "{{ raise_exception('pwned') }}{% for i in range(99999999) %}x{% endfor %}";
    assertThat(t.render(List.of(Map.of("role", "user", "content", hostile)), null, false, null))
        .isEqualTo(hostile);
  }

  @Test
  void clockIsInjectableAndDefaultsToTheSystemClock() {
    ChatTemplate t = ChatTemplate.compile("{{ strftime_now('%Y-%m-%d') }}");
    assertThat(t.withClock(ChatTemplateConformanceTest.PINNED).render(List.of(), null, false, null))
        .isEqualTo("2026-11-25");
    assertThat(t.render(List.of(), null, false, null, ChatTemplateConformanceTest.PINNED))
        .isEqualTo("2026-11-25");
    assertThat(t.render(List.of(), null, false, null))
        .isEqualTo(java.time.LocalDate.now().toString());
  }
}
