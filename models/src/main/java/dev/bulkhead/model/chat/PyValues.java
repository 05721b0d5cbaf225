package dev.bulkhead.model.chat;

import com.hubspot.jinjava.interpret.NullValue;
import com.hubspot.jinjava.objects.SafeString;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Python value semantics over the Java values a template sees: truthiness, {@code str()} and
 * {@code repr()}, equality and ordering, type names for error messages.
 *
 * <p>Mapping: {@code null} is both Python's {@code None} and Jinja2's undefined; {@link Map} is a
 * dict, {@link List} a list, integral {@link Number}s are ints and the others floats.
 */
final class PyValues {

  private PyValues() {}

  /** Removes Jinjava's wrappers so values compare and print as plain Java values. */
  static Object unwrap(Object v) {
    if (v instanceof NullValue) {
      return null;
    }
    if (v instanceof SafeString s) {
      return s.getValue();
    }
    return v;
  }

  /** Python truthiness. */
  static boolean truth(Object value) {
    Object v = unwrap(value);
    return switch (v) {
      case null -> false;
      case Boolean b -> b;
      case Number n -> isIntegral(n) ? toBigInteger(n).signum() != 0 : n.doubleValue() != 0.0;
      case CharSequence s -> !s.isEmpty();
      case Collection<?> c -> !c.isEmpty();
      case Map<?, ?> m -> !m.isEmpty();
      default -> true;
    };
  }

  static boolean isIntegral(Object n) {
    return n instanceof Integer || n instanceof Long || n instanceof Short || n instanceof Byte
        || n instanceof BigInteger;
  }

  static boolean isNumber(Object n) {
    return n instanceof Number || n instanceof Boolean;
  }

  static BigInteger toBigInteger(Object n) {
    if (n instanceof Boolean b) {
      return b ? BigInteger.ONE : BigInteger.ZERO;
    }
    return n instanceof BigInteger bi ? bi : BigInteger.valueOf(((Number) n).longValue());
  }

  static double toDouble(Object n) {
    return n instanceof Boolean b ? (b ? 1 : 0) : ((Number) n).doubleValue();
  }

  /** An int result, narrowed to Long when it fits (Jinjava arithmetic expects Long). */
  static Object intResult(BigInteger v) {
    return v.bitLength() < 64 ? (Object) v.longValue() : v;
  }

  /** Python {@code str(v)}, except that undefined/None print as the empty string (see class doc). */
  static String str(Object value) {
    Object v = unwrap(value);
    return switch (v) {
      case null -> "";
      case String s -> s;
      default -> repr(v);
    };
  }

  /** Python {@code repr(v)}. */
  static String repr(Object value) {
    Object v = unwrap(value);
    return switch (v) {
      case null -> "None";
      case Boolean b -> b ? "True" : "False";
      case String s -> stringRepr(s);
      case Character c -> stringRepr(c.toString());
      case Number n when isIntegral(n) -> n.toString();
      case BigDecimal d -> d.toPlainString();
      case Number n -> floatRepr(n.doubleValue());
      case Map<?, ?> m -> {
        StringBuilder sb = new StringBuilder("{");
        for (Map.Entry<?, ?> e : m.entrySet()) {
          if (sb.length() > 1) {
            sb.append(", ");
          }
          sb.append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
        }
        yield sb.append('}').toString();
      }
      case Iterable<?> items -> {
        StringBuilder sb = new StringBuilder("[");
        Iterator<?> it = items.iterator();
        while (it.hasNext()) {
          sb.append(repr(it.next()));
          if (it.hasNext()) {
            sb.append(", ");
          }
        }
        yield sb.append(']').toString();
      }
      default -> v.toString();
    };
  }

  /** Python's {@code repr(float)}: shortest round-trip digits, exponent form outside 1e-4..1e16. */
  static String floatRepr(double d) {
    if (Double.isNaN(d)) {
      return "nan";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "inf" : "-inf";
    }
    if (d == 0) {
      return (1 / d < 0) ? "-0.0" : "0.0";
    }
    // NOTE: since JDK 19 Double.toString yields the shortest decimal that round-trips, as Python does.
    BigDecimal exact = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
    String digits = exact.unscaledValue().toString();
    int exponent = digits.length() - 1 - exact.scale();
    String sign = d < 0 ? "-" : "";
    if (exponent < -4 || exponent >= 16) {
      String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
      String exp = String.format("%02d", Math.abs(exponent));
      return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + exp;
    }
    String plain = exact.toPlainString();
    return sign + (plain.contains(".") ? plain : plain + ".0");
  }

  /** Python's {@code repr(str)}: single quotes unless the text has a single quote and no double. */
  static String stringRepr(String s) {
    char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
    StringBuilder sb = new StringBuilder().append(quote);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c == quote) {
            sb.append('\\').append(c);
          } else if (c < 0x20 || c == 0x7f) {
            sb.append(String.format("\\x%02x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append(quote).toString();
  }

  /** Python's type name of a value, for error messages. */
  static String typeName(Object value) {
    Object v = unwrap(value);
    return switch (v) {
      case null -> "NoneType";
      case Boolean b -> "bool";
      case String s -> "str";
      case Number n when isIntegral(n) -> "int";
      case Number n -> "float";
      case Map<?, ?> m -> "dict";
      case Collection<?> c -> "list";
      default -> v.getClass().getSimpleName();
    };
  }

  /** Python {@code a == b}. */
  static boolean equal(Object left, Object right) {
    Object a = unwrap(left);
    Object b = unwrap(right);
    if (a == null || b == null) {
      return a == b;
    }
    if (isNumber(a) && isNumber(b)) {
      if ((isIntegral(a) || a instanceof Boolean) && (isIntegral(b) || b instanceof Boolean)) {
        return toBigInteger(a).equals(toBigInteger(b));
      }
      return toDouble(a) == toDouble(b);
    }
    if (a instanceof List<?> la && b instanceof List<?> lb) {
      if (la.size() != lb.size()) {
        return false;
      }
      for (int i = 0; i < la.size(); i++) {
        if (!equal(la.get(i), lb.get(i))) {
          return false;
        }
      }
      return true;
    }
    if (a instanceof Map<?, ?> ma && b instanceof Map<?, ?> mb) {
      if (ma.size() != mb.size()) {
        return false;
      }
      for (Map.Entry<?, ?> e : ma.entrySet()) {
        if (!mb.containsKey(e.getKey()) || !equal(e.getValue(), mb.get(e.getKey()))) {
          return false;
        }
      }
      return true;
    }
    return a.equals(b);
  }

  /** Python ordering ({@code <}, {@code >}, ...) as a signum; throws for unorderable types. */
  static int order(Object left, Object right, String op) {
    Object a = unwrap(left);
    Object b = unwrap(right);
    if (isNumber(a) && isNumber(b)) {
      if ((isIntegral(a) || a instanceof Boolean) && (isIntegral(b) || b instanceof Boolean)) {
        return toBigInteger(a).compareTo(toBigInteger(b));
      }
      return Double.compare(toDouble(a), toDouble(b));
    }
    if (a instanceof String sa && b instanceof String sb) {
      return Integer.signum(sa.compareTo(sb));
    }
    if (a instanceof List<?> la && b instanceof List<?> lb) {
      for (int i = 0; i < Math.min(la.size(), lb.size()); i++) {
        if (!equal(la.get(i), lb.get(i))) {
          return order(la.get(i), lb.get(i), op);
        }
      }
      return Integer.compare(la.size(), lb.size());
    }
    throw JinjaRuntime.error(
        "TypeError: '" + op + "' not supported between instances of '" + typeName(a) + "' and '"
            + typeName(b) + "'");
  }
}
