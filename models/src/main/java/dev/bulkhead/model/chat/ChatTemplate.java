package dev.bulkhead.model.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.interpret.errorcategory.BasicTemplateErrorCategory;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A compiled Hugging Face chat template that renders conversations the way transformers'
 * {@code apply_chat_template} does: Jinja2 with {@code trim_blocks}, {@code lstrip_blocks} and loop
 * controls, Python string and dict methods, slicing, {@code tojson} with {@code json.dumps} spacing,
 * {@code namespace}, and the {@code raise_exception} and {@code strftime_now} globals.
 *
 * <p>Instances are immutable and thread-safe. Known difference from Jinja2: a {@code None} value and
 * an undefined variable are the same thing here ({@code null}), so {@code None} prints as the empty
 * string and {@code x is defined} is false for a key whose value is {@code None}.
 */
public final class ChatTemplate {

  private final String source;
  private final TemplateTranslator.Translation translation;
  private final Jinjava jinjava;
  private final Clock clock;

  private ChatTemplate(
      String source, TemplateTranslator.Translation translation, Jinjava jinjava, Clock clock) {
    this.source = source;
    this.translation = translation;
    this.jinjava = jinjava;
    this.clock = clock;
  }

  /**
   * Compiles a template. {@code strftime_now} uses the system clock; see {@link #withClock(Clock)}.
   *
   * @param source the Jinja2 template text
   * @return the compiled template
   * @throws ChatTemplateException on a syntax error or an unsupported construct (with its line)
   */
  public static ChatTemplate compile(String source) {
    Objects.requireNonNull(source, "source");
    return new ChatTemplate(
        source, TemplateTranslator.translate(source), JinjaRuntime.newJinjava(), Clock.systemDefaultZone());
  }

  /**
   * The same template with {@code strftime_now} reading the given clock (and its time zone).
   *
   * @param clock the clock to use, never null
   * @return a template sharing this one's compiled form
   */
  public ChatTemplate withClock(Clock clock) {
    return new ChatTemplate(source, translation, jinjava, Objects.requireNonNull(clock, "clock"));
  }

  /** The Jinja2 source this template was compiled from. */
  public String source() {
    return source;
  }

  /**
   * Renders a conversation.
   *
   * @param messages the messages ({@code role}, {@code content}, optionally {@code tool_calls}, ...)
   * @param tools tool schemas, or null when none are offered (then {@code tools} is undefined)
   * @param addGenerationPrompt whether to open an assistant turn at the end
   * @param extraVariables further variables: {@code bos_token}, {@code eos_token},
   *     {@code enable_thinking}, ...; may be null
   * @return the rendered prompt text
   * @throws ChatTemplateException when the template raises (message = the template's text) or fails
   */
  public String render(
      List<Map<String, Object>> messages,
      List<Map<String, Object>> tools,
      boolean addGenerationPrompt,
      Map<String, Object> extraVariables) {
    Objects.requireNonNull(messages, "messages");
    Map<String, Object> bindings = new HashMap<>();
    JinjaRuntime.GLOBALS.forEach(name -> bindings.put(name, new JinjaRuntime.Builtin(name)));
    if (extraVariables != null) {
      bindings.putAll(extraVariables);
    }
    bindings.put("messages", messages);
    if (tools != null) {
      bindings.put("tools", tools);
    }
    bindings.put("add_generation_prompt", addGenerationPrompt);
    bindings.put(JinjaRuntime.STRINGS_VAR, translation.strings());
    RenderState state = new RenderState(clock);
    bindings.put(JinjaRuntime.STATE_VAR, state);
    RenderResult result = jinjava.renderForResult(translation.jinjavaSource(), bindings);
    if (state.error() != null) {
      throw new ChatTemplateException(state.error());
    }
    for (TemplateError error : result.getErrors()) {
      // NOTE: Jinjava reports runaway macro recursion only as a warning and renders on; Jinja2 fails.
      if (error.getCategory() == BasicTemplateErrorCategory.CYCLE_DETECTED) {
        throw new ChatTemplateException("RecursionError: " + error.getMessage());
      }
      if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
        throw new ChatTemplateException(
            "Template render error at line " + error.getLineno() + ": " + error.getMessage());
      }
    }
    return result.getOutput();
  }

  /**
   * Renders with the same options as {@link #render(List, List, boolean, Map)}, with a one-off clock.
   *
   * @param clock the clock {@code strftime_now} reads for this render
   */
  public String render(
      List<Map<String, Object>> messages,
      List<Map<String, Object>> tools,
      boolean addGenerationPrompt,
      Map<String, Object> extraVariables,
      Clock clock) {
    return withClock(clock).render(messages, tools, addGenerationPrompt, extraVariables);
  }
}
