package dev.bulkhead.model.chat;

import dev.bulkhead.model.chat.ExprToken.Type;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Parses Jinja2 expressions (its grammar and precedence) and emits equivalent Jinjava expressions.
 *
 * <p>NOTE: every emitted sub-expression is parenthesised, and every operation whose Python semantics
 * Jinjava does not share (truthiness, {@code +}, {@code in}, slicing, string methods, tests) becomes
 * a call into {@link JinjaRuntime}. String literals become lookups into a constant table, so no
 * literal text ever reaches Jinjava's own tag splitting or its non-Python escape rules.
 */
final class ExprTranslator extends TokenCursor {

  /** Python {@code str}/{@code dict}/{@code list} methods dispatched to {@link PyMethods}. */
  static final Set<String> PY_METHODS =
      Set.of(
          "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith", "endswith",
          "replace", "upper", "lower", "title", "capitalize", "swapcase", "find", "rfind", "index",
          "rindex", "count", "join", "isdigit", "isalpha", "isalnum", "isspace", "isupper",
          "islower", "isnumeric", "isdecimal", "zfill", "center", "ljust", "rjust", "partition",
          "rpartition", "removeprefix", "removesuffix", "format", "items", "keys", "values", "get",
          "append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault", "sort",
          "reverse", "copy", "popitem");

  // NOTE: JUEL keywords cannot be used as identifiers or after a dot in Jinjava.
  private static final Set<String> JUEL_KEYWORDS =
      Set.of(
          "empty", "div", "mod", "eq", "ne", "lt", "gt", "le", "ge", "instanceof", "and", "or", "not",
          "true", "false", "null", "in", "is");

  private static final Set<String> COMPARE_OPS = Set.of("==", "!=", "<", ">", "<=", ">=");

  private final StringTable strings;

  ExprTranslator(List<ExprToken> tokens, StringTable strings, int line) {
    super(tokens, line);
    this.strings = strings;
  }

  /** Translates a whole expression source (the inside of an output tag). */
  static String translate(String source, StringTable strings, int line) {
    ExprTranslator t = new ExprTranslator(ExprTokenizer.tokenize(source, line), strings, line);
    String result = t.parseTuple(true);
    t.expectEnd();
    return result;
  }

  /** An expression or a bare tuple {@code a, b} (emitted as a list). */
  String parseTuple(boolean withCondexpr) {
    List<String> items = new ArrayList<>();
    boolean comma = false;
    while (true) {
      if (!items.isEmpty()) {
        if (!skipOp(",")) {
          break;
        }
        comma = true;
      }
      if (atEnd() || peek().isOp(")") || peek().isOp("]") || peek().isOp("=")) {
        break;
      }
      items.add(withCondexpr ? parseExpression() : parseOr());
    }
    if (items.isEmpty()) {
      throw fail("expected an expression");
    }
    return items.size() == 1 && !comma ? items.get(0) : "[" + String.join(", ", items) + "]";
  }

  /** {@code a if cond else b}, the loosest-binding expression. */
  String parseExpression() {
    String expr = parseOr();
    while (skipName("if")) {
      String cond = parseOr();
      String otherwise = skipName("else") ? parseExpression() : "null";
      expr = ternary(cond, expr, otherwise);
    }
    return expr;
  }

  String parseOr() {
    String left = parseAnd();
    while (skipName("or")) {
      String right = parseAnd();
      // NOTE: Python's "or" yields an operand, not a boolean; the left side is evaluated twice.
      left = ternary(left, left, right);
    }
    return left;
  }

  String parseAnd() {
    String left = parseNot();
    while (skipName("and")) {
      String right = parseNot();
      left = ternary(left, right, left);
    }
    return left;
  }

  String parseNot() {
    if (skipName("not")) {
      return "(!" + rt("truth", parseNot()) + ")";
    }
    return parseCompare();
  }

  String parseCompare() {
    String left = parseMath1();
    List<String> pairs = new ArrayList<>();
    while (true) {
      ExprToken t = peek();
      String right;
      String pair;
      if (t.type() == Type.OPERATOR && COMPARE_OPS.contains(t.text())) {
        next();
        right = parseMath1();
        pair = rt("compare", left, strings.literal(t.text()), right);
      } else if (t.isName("in")) {
        next();
        right = parseMath1();
        pair = rt("contains", right, left);
      } else if (t.isName("not") && peek(1).isName("in")) {
        skip(2);
        right = parseMath1();
        pair = "(!" + rt("contains", right, left) + ")";
      } else {
        break;
      }
      pairs.add(pair);
      left = right;
    }
    if (pairs.isEmpty()) {
      return left;
    }
    return pairs.size() == 1 ? pairs.get(0) : "(" + String.join(" && ", pairs) + ")";
  }

  String parseMath1() {
    String left = parseConcat();
    while (peek().isOp("+") || peek().isOp("-")) {
      String op = next().text();
      left = rt(op.equals("+") ? "add" : "sub", left, parseConcat());
    }
    return left;
  }

  String parseConcat() {
    String left = parseMath2();
    while (skipOp("~")) {
      left = rt("concat", left, parseMath2());
    }
    return left;
  }

  String parseMath2() {
    String left = parsePow();
    while (true) {
      String fn =
          switch (peek().text()) {
            case "*" -> "mul";
            case "/" -> "div";
            case "//" -> "floordiv";
            case "%" -> "mod";
            default -> null;
          };
      if (fn == null || peek().type() != Type.OPERATOR) {
        return left;
      }
      next();
      left = rt(fn, left, parsePow());
    }
  }

  String parsePow() {
    String left = parseUnary(true);
    while (skipOp("**")) {
      left = rt("pow", left, parseUnary(true));
    }
    return left;
  }

  String parseUnary(boolean withFilter) {
    String node;
    if (skipOp("-")) {
      node = rt("neg", parseUnary(false));
    } else if (skipOp("+")) {
      node = parseUnary(false);
    } else {
      node = parsePrimary();
    }
    node = parsePostfix(node);
    return withFilter ? parseFilterExpr(node) : node;
  }

  String parsePrimary() {
    ExprToken t = next();
    switch (t.type()) {
      case NAME -> {
        return switch (t.text()) {
          case "true", "True" -> "true";
          case "false", "False" -> "false";
          case "none", "None" -> "null";
          default -> identifier(t.text());
        };
      }
      case STRING -> {
        StringBuilder value = new StringBuilder(t.text());
        while (peek().type() == Type.STRING) {
          value.append(next().text());
        }
        return strings.literal(value.toString());
      }
      case INTEGER -> {
        return integer(t.text());
      }
      case FLOAT -> {
        return "(" + t.text() + ")";
      }
      case OPERATOR -> {
        switch (t.text()) {
          case "(" -> {
            if (skipOp(")")) {
              return "[]";
            }
            String inner = parseTuple(true);
            expectOp(")");
            return "(" + inner + ")";
          }
          case "[" -> {
            return "[" + String.join(", ", parseItems("]")) + "]";
          }
          case "{" -> {
            return parseDict();
          }
          default -> throw fail("unexpected '" + t.text() + "'");
        }
      }
      default -> throw fail("unexpected end of expression");
    }
  }

  private String integer(String text) {
    String lower = text.toLowerCase(java.util.Locale.ROOT);
    BigInteger value;
    if (lower.startsWith("0x")) {
      value = new BigInteger(text.substring(2), 16);
    } else if (lower.startsWith("0o")) {
      value = new BigInteger(text.substring(2), 8);
    } else if (lower.startsWith("0b")) {
      value = new BigInteger(text.substring(2), 2);
    } else {
      value = new BigInteger(text);
    }
    if (value.bitLength() > 63) {
      throw fail("integer literal too large: " + text);
    }
    return value.toString();
  }

  String identifier(String name) {
    if (JUEL_KEYWORDS.contains(name)) {
      throw fail("'" + name + "' cannot be used as a variable name here");
    }
    return name;
  }

  private List<String> parseItems(String close) {
    List<String> items = new ArrayList<>();
    while (!skipOp(close)) {
      if (!items.isEmpty()) {
        expectOp(",");
        if (skipOp(close)) {
          break;
        }
      }
      items.add(parseExpression());
    }
    return items;
  }

  private String parseDict() {
    List<String> entries = new ArrayList<>();
    while (!skipOp("}")) {
      if (!entries.isEmpty()) {
        expectOp(",");
        if (skipOp("}")) {
          break;
        }
      }
      String key = parseExpression();
      expectOp(":");
      entries.add("[" + key + ", " + parseExpression() + "]");
    }
    return rt("dict", "[" + String.join(", ", entries) + "]");
  }

  String parsePostfix(String node) {
    while (true) {
      if (peek().isOp(".")) {
        node = parseDot(node);
      } else if (peek().isOp("[")) {
        node = parseSubscript(node);
      } else if (peek().isOp("(")) {
        node = node + parseCallArgs();
      } else {
        return node;
      }
    }
  }

  private String parseDot(String node) {
    next();
    ExprToken t = next();
    if (t.type() == Type.INTEGER) {
      return rt("getitem", node, t.text());
    }
    if (t.type() != Type.NAME) {
      throw fail("expected an attribute name after '.'");
    }
    String name = t.text();
    if (peek().isOp("(") && PY_METHODS.contains(name)) {
      next();
      List<String> args = parseItems(")");
      return rt("call", node, strings.literal(name), "[" + String.join(", ", args) + "]");
    }
    if (peek().isOp("(") && !JUEL_KEYWORDS.contains(name)) {
      // NOTE: methods of Jinjava objects (loop.cycle, macro objects) keep Jinjava's own dispatch.
      return node + "." + name + parseCallArgs();
    }
    return rt("getattr", node, strings.literal(name));
  }

  private String parseSubscript(String node) {
    next();
    String[] parts = new String[3];
    int part = 0;
    boolean slice = false;
    while (!peek().isOp("]")) {
      if (skipOp(":")) {
        slice = true;
        part++;
        if (part > 2) {
          throw fail("too many ':' in subscript");
        }
        continue;
      }
      if (parts[part] != null) {
        throw fail("expected ':' or ']' in subscript");
      }
      parts[part] = slice ? parseExpression() : parseTuple(true);
    }
    next();
    if (!slice) {
      if (parts[0] == null) {
        throw fail("empty subscript");
      }
      return rt("getitem", node, parts[0]);
    }
    return rt(
        "slice",
        node,
        parts[0] == null ? "null" : parts[0],
        parts[1] == null ? "null" : parts[1],
        parts[2] == null ? "null" : parts[2]);
  }

  /** Call arguments in Jinjava form, keyword arguments as {@code name=value}. */
  String parseCallArgs() {
    expectOp("(");
    List<String> args = new ArrayList<>();
    while (!skipOp(")")) {
      if (!args.isEmpty()) {
        expectOp(",");
        if (skipOp(")")) {
          break;
        }
      }
      if (peek().isOp("*") || peek().isOp("**")) {
        throw fail("*args and **kwargs in calls are not supported");
      }
      if (peek().type() == Type.NAME && peek(1).isOp("=")) {
        String name = next().text();
        next();
        args.add(name + "=" + parseExpression());
      } else {
        args.add(parseExpression());
      }
    }
    return "(" + String.join(", ", args) + ")";
  }

  String parseFilterExpr(String node) {
    while (true) {
      if (skipOp("|")) {
        node = parseFilter(node);
      } else if (peek().isName("is")) {
        next();
        node = parseTest(node);
      } else if (peek().isOp("(")) {
        node = node + parseCallArgs();
      } else {
        return node;
      }
    }
  }

  /** One filter application {@code name(args)} to {@code node}; the pipe is already consumed. */
  String parseFilter(String node) {
    StringBuilder name = new StringBuilder(expectName());
    while (peek().isOp(".") && peek(1).type() == Type.NAME) {
      next();
      name.append('.').append(next().text());
    }
    String args = peek().isOp("(") ? parseCallArgs() : "";
    String filterName = name.toString();
    if (filterName.equals("d")) {
      filterName = "default";
    }
    return "(" + node + "|" + filterName + args + ")";
  }

  private String parseTest(String node) {
    boolean negated = skipName("not");
    String name = expectName();
    while (peek().isOp(".") && peek(1).type() == Type.NAME) {
      next();
      name = name + "." + next().text();
    }
    List<String> args = new ArrayList<>();
    ExprToken t = peek();
    if (t.isOp("(")) {
      next();
      args = parseItems(")");
    } else if ((t.type() == Type.NAME
            || t.type() == Type.STRING
            || t.type() == Type.INTEGER
            || t.type() == Type.FLOAT
            || t.isOp("(")
            || t.isOp("[")
            || t.isOp("{"))
        && !t.isName("else")
        && !t.isName("or")
        && !t.isName("and")) {
      if (t.isName("is")) {
        throw fail("You cannot chain multiple tests with is");
      }
      args.add(parsePostfix(parsePrimary()));
    }
    String test =
        rt("test", node, strings.literal(name), "[" + String.join(", ", args) + "]");
    return negated ? "(!" + test + ")" : test;
  }

  /**
   * A Python-truthiness conditional. NOTE: both branches are parenthesised because JUEL reads
   * {@code a ? b : f(x)} with an identifier before the colon as the namespaced function {@code b:f}.
   */
  private static String ternary(String cond, String whenTrue, String whenFalse) {
    return "(" + rt("truth", cond) + " ? (" + whenTrue + ") : (" + whenFalse + "))";
  }

  /** A call to a runtime helper registered by {@link JinjaRuntime}. */
  static String rt(String fn, String... args) {
    return JinjaRuntime.PREFIX + fn + "(" + String.join(", ", args) + ")";
  }
}
