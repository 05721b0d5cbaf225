package dev.bulkhead.model.chat;

import static dev.bulkhead.model.chat.PyMethods.arity;
import static dev.bulkhead.model.chat.PyValues.typeName;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/** Python {@code str} methods, code-point correct where indices are involved. */
final class PyStrings {

  private PyStrings() {}

  /** Calls a str method; returns null when {@code str} has no such method. */
  static Object call(String s, String name, List<Object> a) {
    return switch (name) {
      case "strip" -> PyText.strip(s, chars(name, a));
      case "lstrip" -> PyText.lstrip(s, chars(name, a));
      case "rstrip" -> PyText.rstrip(s, chars(name, a));
      case "split" -> split(s, a, false);
      case "rsplit" -> split(s, a, true);
      case "splitlines" -> splitLines(s);
      case "startswith" -> affix(s, name, a, true);
      case "endswith" -> affix(s, name, a, false);
      case "replace" -> replace(s, a);
      case "upper" -> s.toUpperCase(Locale.ROOT);
      case "lower" -> s.toLowerCase(Locale.ROOT);
      case "title" -> title(s);
      case "capitalize" -> s.isEmpty() ? s
          : s.substring(0, s.offsetByCodePoints(0, 1)).toUpperCase(Locale.ROOT)
              + s.substring(s.offsetByCodePoints(0, 1)).toLowerCase(Locale.ROOT);
      case "swapcase" -> swapCase(s);
      case "find", "index" -> find(s, name, a, false);
      case "rfind", "rindex" -> find(s, name, a, true);
      case "count" -> count(s, str(name, a, 0));
      case "join" -> join(s, a);
      case "isdigit", "isnumeric", "isdecimal" ->
          !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
      case "isalpha" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
      case "isalnum" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
      case "isspace" -> PyText.isAllSpace(s);
      case "isupper" -> s.chars().anyMatch(Character::isLetter) && s.equals(s.toUpperCase(Locale.ROOT));
      case "islower" -> s.chars().anyMatch(Character::isLetter) && s.equals(s.toLowerCase(Locale.ROOT));
      case "zfill" -> zfill(s, intArg(name, a, 0));
      case "center", "ljust", "rjust" -> pad(s, name, a);
      case "partition" -> partition(s, str(name, a, 0), false);
      case "rpartition" -> partition(s, str(name, a, 0), true);
      case "removeprefix" -> s.startsWith(str(name, a, 0)) ? s.substring(str(name, a, 0).length()) : s;
      case "removesuffix" -> {
        String suffix = str(name, a, 0);
        yield !suffix.isEmpty() && s.endsWith(suffix) ? s.substring(0, s.length() - suffix.length()) : s;
      }
      case "format" -> format(s, a);
      default -> null;
    };
  }

  private static String chars(String name, List<Object> a) {
    arity(name, a, 0, 1);
    return a.isEmpty() || a.get(0) == null ? null : str(name, a, 0);
  }

  private static String str(String name, List<Object> a, int i) {
    if (a.size() <= i || !(a.get(i) instanceof String s)) {
      throw JinjaRuntime.error("TypeError: " + name + "() argument " + (i + 1) + " must be str, not "
          + (a.size() <= i ? "missing" : typeName(a.get(i))));
    }
    return s;
  }

  private static int intArg(String name, List<Object> a, int i) {
    if (a.size() <= i || !PyValues.isIntegral(a.get(i))) {
      throw JinjaRuntime.error("TypeError: " + name + "() argument " + (i + 1) + " must be int");
    }
    return ((Number) a.get(i)).intValue();
  }

  private static List<String> split(String s, List<Object> a, boolean fromRight) {
    arity(fromRight ? "rsplit" : "split", a, 0, 2);
    String sep = a.isEmpty() || a.get(0) == null ? null : str("split", a, 0);
    int max = a.size() < 2 ? -1 : intArg("split", a, 1);
    if (sep != null && sep.isEmpty()) {
      throw JinjaRuntime.error("ValueError: empty separator");
    }
    List<String> parts = new ArrayList<>();
    if (sep == null) {
      splitWhitespace(fromRight ? new StringBuilder(s).reverse().toString() : s, max, parts);
      if (fromRight) {
        parts.replaceAll(p -> new StringBuilder(p).reverse().toString());
        Collections.reverse(parts);
      }
      return parts;
    }
    if (!fromRight) {
      int from = 0;
      int at;
      while ((max < 0 || parts.size() < max) && (at = s.indexOf(sep, from)) >= 0) {
        parts.add(s.substring(from, at));
        from = at + sep.length();
      }
      parts.add(s.substring(from));
      return parts;
    }
    int end = s.length();
    int at;
    while ((max < 0 || parts.size() < max) && end >= 0 && (at = s.lastIndexOf(sep, end - sep.length())) >= 0) {
      parts.add(s.substring(at + sep.length(), end));
      end = at;
    }
    parts.add(s.substring(0, end));
    Collections.reverse(parts);
    return parts;
  }

  private static void splitWhitespace(String s, int max, List<String> parts) {
    int i = 0;
    int n = s.length();
    while (true) {
      while (i < n && PyText.isSpace(s.charAt(i))) {
        i++;
      }
      if (i >= n) {
        return;
      }
      if (max >= 0 && parts.size() >= max) {
        parts.add(PyText.rstrip(s.substring(i), null));
        return;
      }
      int start = i;
      while (i < n && !PyText.isSpace(s.charAt(i))) {
        i++;
      }
      parts.add(s.substring(start, i));
    }
  }

  private static List<String> splitLines(String s) {
    List<String> lines = new ArrayList<>();
    int start = 0;
    int i = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      boolean lineBreak = c == '\n' || c == '\r' || c == 0x0b || c == '\f' || (c >= 0x1c && c <= 0x1e)
          || c == 0x85 || c == 0x2028 || c == 0x2029;
      if (lineBreak) {
        lines.add(s.substring(start, i));
        i += c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n' ? 2 : 1;
        start = i;
      } else {
        i++;
      }
    }
    if (start < s.length()) {
      lines.add(s.substring(start));
    }
    return lines;
  }

  private static boolean affix(String s, String name, List<Object> a, boolean prefix) {
    arity(name, a, 1, 1);
    Object arg = a.get(0);
    List<?> options = arg instanceof List<?> l ? l : List.of(arg == null ? "" : arg);
    for (Object option : options) {
      if (!(option instanceof String o)) {
        throw JinjaRuntime.error("TypeError: " + name + " first arg must be str or a tuple of str, not "
            + typeName(option));
      }
      if (prefix ? s.startsWith(o) : s.endsWith(o)) {
        return true;
      }
    }
    return false;
  }

  private static String replace(String s, List<Object> a) {
    arity("replace", a, 2, 3);
    String old = str("replace", a, 0);
    String neu = str("replace", a, 1);
    int count = a.size() > 2 ? intArg("replace", a, 2) : -1;
    if (count < 0) {
      if (old.isEmpty()) {
        StringBuilder sb = new StringBuilder(neu);
        s.codePoints().forEach(cp -> sb.appendCodePoint(cp).append(neu));
        return sb.toString();
      }
      return s.replace(old, neu);
    }
    StringBuilder sb = new StringBuilder();
    int from = 0;
    int at;
    int done = 0;
    while (done < count && !old.isEmpty() && (at = s.indexOf(old, from)) >= 0) {
      sb.append(s, from, at).append(neu);
      from = at + old.length();
      done++;
    }
    return sb.append(s.substring(from)).toString();
  }

  private static String title(String s) {
    StringBuilder sb = new StringBuilder();
    boolean previousCased = false;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      boolean cased = Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
      sb.appendCodePoint(previousCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp));
      previousCased = cased;
      i += Character.charCount(cp);
    }
    return sb.toString();
  }

  private static String swapCase(String s) {
    StringBuilder sb = new StringBuilder();
    s.codePoints().forEach(cp -> sb.appendCodePoint(
        Character.isUpperCase(cp) ? Character.toLowerCase(cp) : Character.toUpperCase(cp)));
    return sb.toString();
  }

  private static long find(String s, String name, List<Object> a, boolean last) {
    arity(name, a, 1, 1);
    String sub = str(name, a, 0);
    int at = last ? s.lastIndexOf(sub) : s.indexOf(sub);
    if (at < 0 && name.endsWith("index")) {
      throw JinjaRuntime.error("ValueError: substring not found");
    }
    return at < 0 ? -1 : s.codePointCount(0, at);
  }

  private static long count(String s, String sub) {
    if (sub.isEmpty()) {
      return s.codePointCount(0, s.length()) + 1L;
    }
    long n = 0;
    for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
      n++;
    }
    return n;
  }

  private static String join(String sep, List<Object> a) {
    arity("join", a, 1, 1);
    List<String> parts = new ArrayList<>();
    for (Object item : PyOps.iterate(a.get(0))) {
      Object v = PyValues.unwrap(item);
      if (!(v instanceof String sv)) {
        throw JinjaRuntime.error("TypeError: sequence item " + parts.size() + ": expected str instance, "
            + typeName(v) + " found");
      }
      parts.add(sv);
    }
    return String.join(sep, parts);
  }

  private static String zfill(String s, int width) {
    int len = s.codePointCount(0, s.length());
    if (len >= width) {
      return s;
    }
    boolean signed = !s.isEmpty() && (s.charAt(0) == '-' || s.charAt(0) == '+');
    String zeros = "0".repeat(width - len);
    return signed ? s.charAt(0) + zeros + s.substring(1) : zeros + s;
  }

  private static String pad(String s, String name, List<Object> a) {
    arity(name, a, 1, 2);
    int width = intArg(name, a, 0);
    String fill = a.size() > 1 ? str(name, a, 1) : " ";
    int len = s.codePointCount(0, s.length());
    if (len >= width) {
      return s;
    }
    int total = width - len;
    int left = switch (name) {
      case "ljust" -> 0;
      case "rjust" -> total;
      default -> total / 2 + (total & width & 1);
    };
    return fill.repeat(left) + s + fill.repeat(total - left);
  }

  private static List<String> partition(String s, String sep, boolean last) {
    int at = last ? s.lastIndexOf(sep) : s.indexOf(sep);
    if (at < 0) {
      return last ? List.of("", "", s) : List.of(s, "", "");
    }
    return List.of(s.substring(0, at), sep, s.substring(at + sep.length()));
  }

  /** {@code str.format} with positional {@code {}} and {@code {0}} fields only. */
  private static String format(String s, List<Object> a) {
    StringBuilder sb = new StringBuilder();
    int auto = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '{' && i + 1 < s.length() && s.charAt(i + 1) == '{') {
        sb.append('{');
        i++;
      } else if (c == '}' && i + 1 < s.length() && s.charAt(i + 1) == '}') {
        sb.append('}');
        i++;
      } else if (c == '{') {
        int close = s.indexOf('}', i);
        if (close < 0) {
          throw JinjaRuntime.error("ValueError: Single '{' encountered in format string");
        }
        String field = s.substring(i + 1, close);
        int index = field.isEmpty() ? auto++ : parseIndex(field);
        if (index >= a.size()) {
          throw JinjaRuntime.error("IndexError: Replacement index " + index + " out of range");
        }
        sb.append(PyValues.str(a.get(index)));
        i = close;
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  private static int parseIndex(String field) {
    if (!field.matches("\\d+")) {
      throw JinjaRuntime.error("ValueError: format field '" + field + "' is not supported (positional only)");
    }
    return Integer.parseInt(field);
  }
}
