package dev.bulkhead.model.chat;

import static dev.bulkhead.model.chat.PyValues.unwrap;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps} as transformers' {@code tojson} filter calls it: {@code ensure_ascii}
 * off, insertion-ordered keys unless sorted, {@code ", "}/{@code ": "} separators, or {@code ","}
 * and {@code ": "} with an indent.
 *
 * @param indent null for single-line output, else the per-level indent string
 * @param itemSeparator between items
 * @param keySeparator between a key and its value
 * @param sortKeys sort dict keys
 */
record PyJson(String indent, String itemSeparator, String keySeparator, boolean sortKeys) {

  /** Builds the options the way {@code json.dumps} resolves its defaults. */
  static PyJson of(Object indent, Object separators, boolean sortKeys) {
    Object ind = unwrap(indent);
    String indentText = switch (ind) {
      case null -> null;
      case String s -> s;
      case Number n -> " ".repeat(Math.max(0, n.intValue()));
      default -> throw JinjaRuntime.error("TypeError: tojson indent must be an int or str");
    };
    String item = indentText == null ? ", " : ",";
    String key = ": ";
    if (unwrap(separators) instanceof List<?> seps) {
      if (seps.size() != 2) {
        throw JinjaRuntime.error("ValueError: tojson separators must be an (item, key) pair");
      }
      item = PyValues.str(seps.get(0));
      key = PyValues.str(seps.get(1));
    }
    return new PyJson(indentText, item, key, sortKeys);
  }

  /** Serialises a value. */
  String dumps(Object value) {
    StringBuilder sb = new StringBuilder();
    write(sb, value, 0);
    return sb.toString();
  }

  private void write(StringBuilder sb, Object value, int level) {
    Object v = unwrap(value);
    switch (v) {
      case null -> sb.append("null");
      case Boolean b -> sb.append(b ? "true" : "false");
      case String s -> string(sb, s);
      case Character c -> string(sb, c.toString());
      case Number n when PyValues.isIntegral(n) -> sb.append(n);
      case BigDecimal d -> sb.append(PyValues.floatRepr(d.doubleValue()));
      case Number n -> sb.append(floatJson(n.doubleValue()));
      case Map<?, ?> m -> object(sb, m, level);
      case Iterable<?> items -> array(sb, items.iterator(), level);
      default ->
          throw JinjaRuntime.error(
              "TypeError: Object of type " + v.getClass().getSimpleName() + " is not JSON serializable");
    }
  }

  private static String floatJson(double d) {
    if (Double.isNaN(d)) {
      return "NaN";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "Infinity" : "-Infinity";
    }
    return PyValues.floatRepr(d);
  }

  private void array(StringBuilder sb, Iterator<?> it, int level) {
    if (!it.hasNext()) {
      sb.append("[]");
      return;
    }
    sb.append('[');
    boolean first = true;
    while (it.hasNext()) {
      if (!first) {
        sb.append(itemSeparator);
      }
      newline(sb, level + 1);
      write(sb, it.next(), level + 1);
      first = false;
    }
    newline(sb, level);
    sb.append(']');
  }

  private void object(StringBuilder sb, Map<?, ?> m, int level) {
    if (m.isEmpty()) {
      sb.append("{}");
      return;
    }
    List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
    if (sortKeys) {
      entries.sort((a, b) -> PyValues.order(a.getKey(), b.getKey(), "<"));
    }
    sb.append('{');
    boolean first = true;
    for (Map.Entry<?, ?> e : entries) {
      if (!first) {
        sb.append(itemSeparator);
      }
      newline(sb, level + 1);
      string(sb, key(e.getKey()));
      sb.append(keySeparator);
      write(sb, e.getValue(), level + 1);
      first = false;
    }
    newline(sb, level);
    sb.append('}');
  }

  /** Dict keys as json.dumps converts them: str as is, scalars to their JSON text. */
  private static String key(Object k) {
    Object v = unwrap(k);
    return switch (v) {
      case String s -> s;
      case null -> "null";
      case Boolean b -> b ? "true" : "false";
      case Number n when PyValues.isIntegral(n) -> n.toString();
      case Number n -> floatJson(n.doubleValue());
      default -> throw JinjaRuntime.error(
          "TypeError: keys must be str, int, float, bool or None, not " + PyValues.typeName(v));
    };
  }

  private void newline(StringBuilder sb, int level) {
    if (indent != null) {
      sb.append('\n').append(indent.repeat(level));
    }
  }

  private static void string(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        case '\b' -> sb.append("\\b");
        case '\f' -> sb.append("\\f");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
