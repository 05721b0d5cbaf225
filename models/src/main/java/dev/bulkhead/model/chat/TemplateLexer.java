package dev.bulkhead.model.chat;

import dev.bulkhead.model.chat.TemplateSegment.Kind;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits a Jinja2 template into text, output and statement segments, applying Jinja2's whitespace
 * control exactly as transformers configures it: {@code trim_blocks=True}, {@code lstrip_blocks=True},
 * {@code keep_trailing_newline=False}, the {@code -} and {@code +} markers, and newline normalisation.
 *
 * <p>NOTE: whitespace is resolved here, not in Jinjava, because Jinjava's trimming rules differ from
 * Jinja2's in corner cases; the translated template handed to Jinjava has no whitespace control left.
 */
final class TemplateLexer {

  private static final Pattern NEWLINE = Pattern.compile("\r\n|\r|\n");
  private static final Pattern RAW_BEGIN =
      Pattern.compile("\\{%([-+]?)\\s*raw\\s*(?:-%}\\s*|%})", Pattern.DOTALL);
  private static final Pattern RAW_END =
      Pattern.compile("\\{%([-+]?)\\s*endraw\\s*(\\+%}|-%}\\s*|%}\\n?)", Pattern.DOTALL);

  private final String src;
  private final List<TemplateSegment> out = new ArrayList<>();
  private int pos;
  private boolean lineStarting = true;

  private TemplateLexer(String source) {
    this.src = normalise(source);
  }

  /**
   * Lexes a template.
   *
   * @param source the template text
   * @return its segments in order; comments are dropped and raw blocks become text
   * @throws ChatTemplateException on an unterminated tag, comment, string or raw block
   */
  static List<TemplateSegment> lex(String source) {
    TemplateLexer lexer = new TemplateLexer(source);
    lexer.run();
    return List.copyOf(lexer.out);
  }

  /** Newlines become {@code \n} and one trailing newline is dropped, as Jinja2's lexer does. */
  private static String normalise(String source) {
    String s = NEWLINE.matcher(source).replaceAll("\n");
    return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
  }

  private void run() {
    while (pos < src.length()) {
      int start = nextTagStart(pos);
      if (start < 0) {
        addText(src.substring(pos), pos);
        return;
      }
      char type = src.charAt(start + 1);
      Matcher raw = RAW_BEGIN.matcher(src).region(start, src.length());
      boolean isRaw = type == '%' && raw.lookingAt();
      char sign = start + 2 < src.length() ? src.charAt(start + 2) : 0;
      String strip = sign == '-' || sign == '+' ? String.valueOf(sign) : "";
      addText(controlledText(src.substring(pos, start), strip, type != '{'), pos);
      if (isRaw) {
        lexRaw(raw.end());
      } else if (type == '#') {
        lexComment(start + 2 + strip.length());
      } else {
        lexTag(start, type == '%', start + 2 + strip.length());
      }
    }
  }

  private int nextTagStart(int from) {
    for (int i = from; i + 1 < src.length(); i++) {
      char next = src.charAt(i + 1);
      if (src.charAt(i) == '{' && (next == '%' || next == '{' || next == '#')) {
        return i;
      }
    }
    return -1;
  }

  /** Applies {@code -} stripping or lstrip_blocks to the text before a tag. */
  private String controlledText(String text, String sign, boolean lstripApplies) {
    if (sign.equals("-")) {
      return PyText.rstrip(text, null);
    }
    if (!sign.equals("+") && lstripApplies) {
      int lineStart = text.lastIndexOf('\n') + 1;
      if ((lineStart > 0 || lineStarting) && PyText.isAllSpace(text.substring(lineStart))) {
        return text.substring(0, lineStart);
      }
    }
    return text;
  }

  private void lexComment(int from) {
    for (int i = from; i < src.length(); i++) {
      if (src.startsWith("+#}", i)) {
        finish(i + 3, false);
        return;
      }
      if (src.startsWith("-#}", i)) {
        finish(skipSpace(i + 3), false);
        return;
      }
      if (src.startsWith("#}", i)) {
        finish(i + 2, true);
        return;
      }
    }
    throw error("Missing end of comment tag", from);
  }

  private void lexRaw(int from) {
    Matcher end = RAW_END.matcher(src);
    if (!end.find(from)) {
      throw error("Missing end of raw directive", from);
    }
    String sign = end.group(1);
    addText(controlledText(src.substring(from, end.start()), sign, true), from);
    pos = end.end();
    lineStarting = src.charAt(pos - 1) == '\n';
  }

  /** Finds the end of a {@code {% %}} or {@code {{ }}} tag, skipping strings and nested brackets. */
  private void lexTag(int tagStart, boolean statement, int from) {
    String close = statement ? "%}" : "}}";
    int depth = 0;
    int i = from;
    while (i < src.length()) {
      char c = src.charAt(i);
      if (c == '\'' || c == '"') {
        i = skipString(i);
        continue;
      }
      if (depth == 0) {
        if (statement && src.startsWith("+" + close, i)) {
          emitTag(statement, tagStart, from, i);
          finish(i + 3, false);
          return;
        }
        if (src.startsWith("-" + close, i)) {
          emitTag(statement, tagStart, from, i);
          finish(skipSpace(i + 3), false);
          return;
        }
        if (src.startsWith(close, i)) {
          emitTag(statement, tagStart, from, i);
          finish(i + 2, statement);
          return;
        }
      }
      if (c == '(' || c == '[' || c == '{') {
        depth++;
      } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
        depth--;
      }
      i++;
    }
    throw error("Missing end of " + (statement ? "statement" : "expression") + " tag", tagStart);
  }

  private void emitTag(boolean statement, int tagStart, int from, int end) {
    out.add(
        new TemplateSegment(
            statement ? Kind.STATEMENT : Kind.OUTPUT, src.substring(from, end), lineOf(tagStart)));
  }

  private int skipString(int quoteAt) {
    char quote = src.charAt(quoteAt);
    for (int i = quoteAt + 1; i < src.length(); i++) {
      char c = src.charAt(i);
      if (c == '\\') {
        i++;
      } else if (c == quote) {
        return i + 1;
      }
    }
    throw error("Unterminated string literal", quoteAt);
  }

  private int skipSpace(int from) {
    int i = from;
    while (i < src.length() && PyText.isSpace(src.charAt(i))) {
      i++;
    }
    return i;
  }

  /** Moves past a tag end; trim_blocks eats one newline after statement and comment tags. */
  private void finish(int end, boolean trimNewline) {
    int next = end;
    if (trimNewline && next < src.length() && src.charAt(next) == '\n') {
      next++;
    }
    pos = next;
    lineStarting = next > 0 && src.charAt(next - 1) == '\n';
  }

  private void addText(String text, int at) {
    if (!text.isEmpty()) {
      out.add(new TemplateSegment(Kind.TEXT, text, lineOf(at)));
    }
  }

  private int lineOf(int offset) {
    int line = 1;
    for (int i = 0; i < offset && i < src.length(); i++) {
      if (src.charAt(i) == '\n') {
        line++;
      }
    }
    return line;
  }

  private ChatTemplateException error(String message, int at) {
    return new ChatTemplateException("Template syntax error at line " + lineOf(at) + ": " + message);
  }
}
