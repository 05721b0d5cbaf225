package dev.bulkhead.model.chat;

import static dev.bulkhead.model.chat.ExprTranslator.rt;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Translates a lexed Jinja2 template into a Jinjava template with the same meaning: statements are
 * re-emitted in the subset of Jinjava syntax that behaves like Jinja2, expressions go through
 * {@link ExprTranslator}, text is printed from the string table, and block structure is checked.
 */
final class TemplateTranslator {

  /** The result: Jinjava source plus the string constants it indexes into. */
  record Translation(String jinjavaSource, List<String> strings) {}

  /** One open block, for matching its end tag. */
  private record Open(String tag, int line, int id) {}

  private final StringTable strings = new StringTable();
  private final StringBuilder out = new StringBuilder();
  private final Deque<Open> stack = new ArrayDeque<>();
  /** The filter expression of each open {@code {% filter %}} block, applied at its end. */
  private final Map<Integer, String> pendingFilters = new HashMap<>();
  private int nextId;

  private TemplateTranslator() {}

  /**
   * Translates a template.
   *
   * @param source Jinja2 template text
   * @return the Jinjava equivalent
   * @throws ChatTemplateException on a syntax error or a construct this renderer does not support
   */
  static Translation translate(String source) {
    TemplateTranslator t = new TemplateTranslator();
    for (TemplateSegment segment : TemplateLexer.lex(source)) {
      switch (segment.kind()) {
        case TEXT -> t.out.append("{{ ").append(t.strings.literal(segment.content())).append(" }}");
        case OUTPUT ->
            t.out
                .append("{{ ")
                .append(rt("str", ExprTranslator.translate(segment.content(), t.strings, segment.line())))
                .append(" }}");
        case STATEMENT -> t.statement(segment);
      }
    }
    if (!t.stack.isEmpty()) {
      Open open = t.stack.peek();
      throw new ChatTemplateException(
          "Template syntax error: '" + open.tag() + "' opened at line " + open.line()
              + " is never closed (missing 'end" + open.tag() + "')");
    }
    return new Translation(t.out.toString(), t.strings.values());
  }

  private void statement(TemplateSegment segment) {
    int line = segment.line();
    ExprTranslator p =
        new ExprTranslator(ExprTokenizer.tokenize(segment.content(), line), strings, line);
    String tag = p.expectName();
    switch (tag) {
      case "if" -> {
        stack.push(new Open("if", line, 0));
        emit("if " + truth(p.parseTuple(true)));
      }
      case "elif" -> {
        requireOpen(tag, "if", line);
        emit("elif " + truth(p.parseTuple(true)));
      }
      case "else" -> elseTag(line);
      case "endif", "endmacro" -> {
        close(tag.substring(3), line);
        emit(tag);
      }
      case "for" -> forTag(p, line);
      case "endfor" -> {
        Open open = close("for", line);
        emit(open.id() < 0 ? "endif" : "endfor");
      }
      case "set" -> setTag(p, line);
      case "endset" -> {
        close("set", line);
        emit("endset");
      }
      case "macro" -> macroTag(p, line);
      case "break", "continue" -> {
        if (stack.stream().noneMatch(o -> o.tag().equals("for"))) {
          throw syntax(line, "'" + tag + "' outside of a loop");
        }
        emit(tag);
      }
      case "do" -> emit("do " + p.parseTuple(true));
      case "filter" -> filterTag(p, line);
      case "endfilter" -> {
        Open open = close("filter", line);
        emit("endset");
        out.append("{{ ").append(rt("str", pendingFilters.remove(open.id()))).append(" }}");
      }
      case "generation" -> stack.push(new Open("generation", line, 0));
      case "endgeneration" -> close("generation", line);
      default -> throw syntax(line, "unsupported or unknown tag '" + tag + "'");
    }
    p.expectEnd();
  }

  private void elseTag(int line) {
    Open open = stack.peek();
    if (open == null || !(open.tag().equals("if") || open.tag().equals("for"))) {
      throw syntax(line, "unexpected 'else'");
    }
    if (open.tag().equals("if")) {
      emit("else");
      return;
    }
    if (open.id() < 0) {
      throw syntax(line, "a 'for' loop can have only one 'else'");
    }
    // NOTE: Jinjava has no for-else; the loop closes and an if tests the (pre-computed) iterable.
    emit("endfor");
    emit("if (!" + rt("truth", "__bh_it" + open.id()) + ")");
    stack.pop();
    stack.push(new Open("for", open.line(), -1));
  }

  private void forTag(ExprTranslator p, int line) {
    List<String> targets = assignTargets(p, line);
    if (!p.skipName("in")) {
      throw syntax(line, "expected 'in' in for loop");
    }
    String iterable = p.parseTuple(false);
    String condition = p.skipName("if") ? p.parseExpression() : null;
    if (p.skipName("recursive")) {
      throw syntax(line, "recursive for loops are not supported");
    }
    int id = nextId++;
    String names = String.join(", ", targets);
    String it = "__bh_it" + id;
    if (condition == null) {
      emit("set " + it + " = " + rt("iter", iterable));
    } else {
      // NOTE: Jinja2 filters before looping, so loop.index/last count only kept items.
      String item = targets.size() == 1 ? targets.get(0) : "[" + names + "]";
      emit("set " + it + " = " + rt("newlist"));
      emit("for " + names + " in " + rt("iter", iterable));
      emit("if " + truth(condition));
      emit("do " + rt("append", it, item));
      emit("endif");
      emit("endfor");
    }
    stack.push(new Open("for", line, id));
    emit("for " + names + " in " + it);
  }

  private void setTag(ExprTranslator p, int line) {
    if (p.peek(1).isOp(".") && p.peek(3).isOp("=")) {
      String ns = p.identifier(p.expectName());
      p.expectOp(".");
      String attr = p.expectName();
      p.expectOp("=");
      emit("set " + ns + "." + attr + " = " + p.parseTuple(true));
      return;
    }
    List<String> targets = assignTargets(p, line);
    if (!p.skipOp("=")) {
      if (targets.size() != 1 || !p.atEnd()) {
        throw syntax(line, "block set needs exactly one name and no filter");
      }
      stack.push(new Open("set", line, 0));
      emit("set " + targets.get(0));
      return;
    }
    String value = p.parseTuple(true);
    if (targets.size() == 1) {
      emit("set " + targets.get(0) + " = " + value);
      return;
    }
    String tmp = "__bh_tmp" + nextId++;
    emit("set " + tmp + " = " + value);
    for (int i = 0; i < targets.size(); i++) {
      emit("set " + targets.get(i) + " = " + rt("getitem", tmp, String.valueOf(i)));
    }
  }

  private void macroTag(ExprTranslator p, int line) {
    String name = p.identifier(p.expectName());
    p.expectOp("(");
    List<String> params = new ArrayList<>();
    while (!p.skipOp(")")) {
      if (!params.isEmpty()) {
        p.expectOp(",");
      }
      String param = p.identifier(p.expectName());
      params.add(p.skipOp("=") ? param + "=" + p.parseExpression() : param);
    }
    stack.push(new Open("macro", line, 0));
    emit("macro " + name + "(" + String.join(", ", params) + ")");
  }

  /** {@code {% filter f %}} renders its body into a variable, then prints it through the filter. */
  private void filterTag(ExprTranslator p, int line) {
    int id = nextId++;
    String filtered = p.parseFilter("__bh_fb" + id);
    while (p.skipOp("|")) {
      filtered = p.parseFilter(filtered);
    }
    stack.push(new Open("filter", line, id));
    emit("set __bh_fb" + id);
    // NOTE: the filtered value is computed at endfilter from the captured body.
    pendingFilters.put(id, filtered);
  }

  private List<String> assignTargets(ExprTranslator p, int line) {
    boolean paren = p.skipOp("(");
    List<String> names = new ArrayList<>();
    do {
      if (paren && p.peek().isOp(")")) {
        break;
      }
      names.add(p.identifier(p.expectName()));
    } while (p.skipOp(","));
    if (paren) {
      p.expectOp(")");
    }
    if (names.isEmpty()) {
      throw syntax(line, "expected an assignment target");
    }
    return names;
  }

  private void requireOpen(String tag, String expected, int line) {
    Open open = stack.peek();
    if (open == null || !open.tag().equals(expected)) {
      throw syntax(line, "unexpected '" + tag + "'");
    }
  }

  private Open close(String tag, int line) {
    Open open = stack.peek();
    if (open == null || !open.tag().equals(tag)) {
      String inside = open == null ? "" : " (innermost open block is '" + open.tag() + "' from line "
          + open.line() + ")";
      throw syntax(line, "unexpected 'end" + tag + "'" + inside);
    }
    return stack.pop();
  }

  private void emit(String statement) {
    out.append("{% ").append(statement).append(" %}");
  }

  private static String truth(String expr) {
    return rt("truth", expr);
  }

  private static ChatTemplateException syntax(int line, String message) {
    return new ChatTemplateException("Template syntax error at line " + line + ": " + message);
  }
}
