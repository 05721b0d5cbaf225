package dev.bulkhead.model.chat;

import dev.bulkhead.model.chat.ExprToken.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Splits the inside of a Jinja2 tag into tokens, decoding string literals the way Python does. */
final class ExprTokenizer {

  private static final Pattern NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
  private static final Pattern FLOAT =
      Pattern.compile(
          "(?<!\\.)(\\d+_)*\\d+((\\.(\\d+_)*\\d+)?[eE][+\\-]?(\\d+_)*\\d+|\\.(\\d+_)*\\d+)");
  private static final Pattern INTEGER =
      Pattern.compile("(0[bB](_?[01])+|0[oO](_?[0-7])+|0[xX](_?[\\da-fA-F])+|[1-9](_?\\d)*|0(_?0)*)");
  // NOTE: longest operators first, as Jinja2 sorts its operator table by length.
  private static final String[] OPERATORS = {
    "//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{",
    "}", ">", "<", "=", ".", ":", "|", ",", ";"
  };

  private ExprTokenizer() {}

  /**
   * Tokenizes an expression or statement body.
   *
   * @param source the text between the tag delimiters
   * @param line the template line, for error messages
   * @return the tokens, ending with one {@link Type#END} token
   * @throws ChatTemplateException on a character that starts no token or an unterminated string
   */
  static List<ExprToken> tokenize(String source, int line) {
    List<ExprToken> tokens = new ArrayList<>();
    int i = 0;
    while (i < source.length()) {
      char c = source.charAt(i);
      if (PyText.isSpace(c)) {
        i++;
        continue;
      }
      if (c == '\'' || c == '"') {
        i = readString(source, i, tokens, line);
        continue;
      }
      Matcher m = FLOAT.matcher(source).region(i, source.length());
      if (m.lookingAt()) {
        tokens.add(new ExprToken(Type.FLOAT, m.group().replace("_", "")));
        i = m.end();
        continue;
      }
      m = INTEGER.matcher(source).region(i, source.length());
      if (m.lookingAt()) {
        tokens.add(new ExprToken(Type.INTEGER, m.group().replace("_", "")));
        i = m.end();
        continue;
      }
      m = NAME.matcher(source).region(i, source.length());
      if (m.lookingAt()) {
        tokens.add(new ExprToken(Type.NAME, m.group()));
        i = m.end();
        continue;
      }
      String op = operatorAt(source, i);
      if (op == null) {
        throw new ChatTemplateException(
            "Template syntax error at line " + line + ": unexpected char '" + c + "'");
      }
      tokens.add(new ExprToken(Type.OPERATOR, op));
      i += op.length();
    }
    tokens.add(new ExprToken(Type.END, ""));
    return tokens;
  }

  private static String operatorAt(String source, int i) {
    for (String op : OPERATORS) {
      if (source.startsWith(op, i)) {
        return op;
      }
    }
    return null;
  }

  private static int readString(String s, int start, List<ExprToken> tokens, int line) {
    char quote = s.charAt(start);
    StringBuilder value = new StringBuilder();
    int i = start + 1;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (c == quote) {
        tokens.add(new ExprToken(Type.STRING, value.toString()));
        return i + 1;
      }
      if (c == '\\' && i + 1 < s.length()) {
        i = unescape(s, i + 1, value);
      } else {
        value.append(c);
        i++;
      }
    }
    throw new ChatTemplateException(
        "Template syntax error at line " + line + ": unterminated string literal");
  }

  /** Decodes one Python escape starting after the backslash; returns the index after it. */
  private static int unescape(String s, int i, StringBuilder out) {
    char e = s.charAt(i);
    switch (e) {
      case 'n' -> out.append('\n');
      case 't' -> out.append('\t');
      case 'r' -> out.append('\r');
      case '\\' -> out.append('\\');
      case '\'' -> out.append('\'');
      case '"' -> out.append('"');
      case 'a' -> out.append('\u0007');
      case 'b' -> out.append('\b');
      case 'f' -> out.append('\f');
      case 'v' -> out.append('\u000b');
      case '\n' -> {
        // NOTE: a backslash before a newline is a line continuation in Python strings.
      }
      case 'x' -> {
        return hexEscape(s, i, 2, out);
      }
      case 'u' -> {
        return hexEscape(s, i, 4, out);
      }
      case 'U' -> {
        return hexEscape(s, i, 8, out);
      }
      default -> {
        if (e >= '0' && e <= '7') {
          int end = i;
          while (end < s.length() && end < i + 3 && s.charAt(end) >= '0' && s.charAt(end) <= '7') {
            end++;
          }
          out.appendCodePoint(Integer.parseInt(s.substring(i, end), 8));
          return end;
        }
        // NOTE: Python keeps unknown escapes such as "\d" verbatim, backslash included.
        out.append('\\').append(e);
      }
    }
    return i + 1;
  }

  private static int hexEscape(String s, int i, int digits, StringBuilder out) {
    int end = i + 1 + digits;
    if (end > s.length() || !s.substring(i + 1, end).matches("[0-9a-fA-F]+")) {
      throw new ChatTemplateException(
          "Template syntax error: truncated \\" + s.charAt(i) + " escape in string literal");
    }
    out.appendCodePoint(Integer.parseInt(s.substring(i + 1, end), 16));
    return end;
  }
}
