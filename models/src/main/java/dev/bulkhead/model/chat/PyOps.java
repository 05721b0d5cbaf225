package dev.bulkhead.model.chat;

import static dev.bulkhead.model.chat.PyValues.isIntegral;
import static dev.bulkhead.model.chat.PyValues.isNumber;
import static dev.bulkhead.model.chat.PyValues.toBigInteger;
import static dev.bulkhead.model.chat.PyValues.toDouble;
import static dev.bulkhead.model.chat.PyValues.typeName;
import static dev.bulkhead.model.chat.PyValues.unwrap;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Python operators, subscription, slicing and iteration over template values. */
final class PyOps {

  private PyOps() {}

  private static boolean bothInts(Object a, Object b) {
    return (isIntegral(a) || a instanceof Boolean) && (isIntegral(b) || b instanceof Boolean);
  }

  private static ChatTemplateException operandError(String op, Object a, Object b) {
    if (a == null || b == null) {
      return JinjaRuntime.error(
          "UndefinedError: an operand of '" + op + "' is undefined or None (" + typeName(a)
              + " " + op + " " + typeName(b) + ")");
    }
    return JinjaRuntime.error(
        "TypeError: unsupported operand type(s) for " + op + ": '" + typeName(a) + "' and '"
            + typeName(b) + "'");
  }

  static Object add(Object left, Object right) {
    Object a = unwrap(left);
    Object b = unwrap(right);
    if (a instanceof String sa && b instanceof String sb) {
      return sa + sb;
    }
    if (isNumber(a) && isNumber(b)) {
      return bothInts(a, b)
          ? PyValues.intResult(toBigInteger(a).add(toBigInteger(b)))
          : toDouble(a) + toDouble(b);
    }
    if (a instanceof List<?> la && b instanceof List<?> lb) {
      List<Object> joined = new ArrayList<>(la);
      joined.addAll(lb);
      return joined;
    }
    if (a instanceof String && b != null) {
      throw JinjaRuntime.error(
          "TypeError: can only concatenate str (not \"" + typeName(b) + "\") to str");
    }
    throw operandError("+", a, b);
  }

  static Object sub(Object left, Object right) {
    Object a = unwrap(left);
    Object b = unwrap(right);
    if (isNumber(a) && isNumber(b)) {
      return bothInts(a, b)
          ? PyValues.intResult(toBigInteger(a).subtract(toBigInteger(b)))
          : toDouble(a) - toDouble(b);
    }
    throw operandError("-", a, b);
  }

  static Object mul(Object left, Object right) {
    Object a = unwrap(left);
    Object b = unwrap(right);
    if (isNumber(a) && isNumber(b)) {
      return bothInts(a, b)
          ? PyValues.intResult(toBigInteger(a).multiply(toBigInteger(b)))
          : toDouble(a) * toDouble(b);
    }
    if (a instanceof String s && isIntegral(b)) {
      return s.repeat(Math.max(0, ((Number) b).intValue()));
    }
    if (isIntegral(a) && b instanceof String s) {
      return s.repeat(Math.max(0, ((Number) a).intValue()));
    }
    if (a instanceof List<?> l && isIntegral(b)) {
      List<Object> repeated = new ArrayList<>();
      for (int i = 0; i < ((Number) b).intValue(); i++) {
        repeated.addAll(l);
      }
      return repeated;
    }
    throw operandError("*", a, b);
  }

  static Object div(Object left, Object right) {
    Object a = unwrap(left);
    Object b = unwrap(right);
    if (isNumber(a) && isNumber(b)) {
      if (toDouble(b) == 0) {
        throw JinjaRuntime.error("ZeroDivisionError: division by zero");
      }
      return toDouble(a) / toDouble(b);
    }
    throw operandError("/", a, b);
  }

  static Object floorDiv(Object left, Object right) {
    Object a = unwrap(left);
    Object b = unwrap(right);
    if (isNumber(a) && isNumber(b)) {
      if (toDouble(b) == 0) {
        throw JinjaRuntime.error("ZeroDivisionError: integer division or modulo by zero");
      }
      if (bothInts(a, b)) {
        BigInteger[] qr = toBigInteger(a).divideAndRemainder(toBigInteger(b));
        BigInteger q = qr[1].signum() != 0 && qr[1].signum() != toBigInteger(b).signum()
            ? qr[0].subtract(BigInteger.ONE) : qr[0];
        return PyValues.intResult(q);
      }
      return Math.floor(toDouble(a) / toDouble(b));
    }
    throw operandError("//", a, b);
  }

  static Object mod(Object left, Object right) {
    Object a = unwrap(left);
    Object b = unwrap(right);
    if (isNumber(a) && isNumber(b)) {
      if (toDouble(b) == 0) {
        throw JinjaRuntime.error("ZeroDivisionError: integer division or modulo by zero");
      }
      if (bothInts(a, b)) {
        BigInteger m = toBigInteger(b);
        BigInteger r = toBigInteger(a).mod(m.abs());
        return PyValues.intResult(m.signum() < 0 && r.signum() != 0 ? r.add(m) : r);
      }
      double x = toDouble(a);
      double y = toDouble(b);
      return x - y * Math.floor(x / y);
    }
    throw operandError("%", a, b);
  }

  static Object pow(Object left, Object right) {
    Object a = unwrap(left);
    Object b = unwrap(right);
    if (isNumber(a) && isNumber(b)) {
      if (bothInts(a, b) && toBigInteger(b).signum() >= 0 && toBigInteger(b).bitLength() < 16) {
        return PyValues.intResult(toBigInteger(a).pow(toBigInteger(b).intValue()));
      }
      return Math.pow(toDouble(a), toDouble(b));
    }
    throw operandError("**", a, b);
  }

  static Object neg(Object value) {
    Object v = unwrap(value);
    if (isIntegral(v) || v instanceof Boolean) {
      return PyValues.intResult(toBigInteger(v).negate());
    }
    if (v instanceof Number n) {
      return -n.doubleValue();
    }
    throw JinjaRuntime.error("TypeError: bad operand type for unary -: '" + typeName(v) + "'");
  }

  /** Python {@code item in container}; an undefined container holds nothing. */
  static boolean contains(Object container, Object item) {
    Object c = unwrap(container);
    Object x = unwrap(item);
    return switch (c) {
      case null -> false;
      case String s -> {
        if (!(x instanceof String sx)) {
          throw JinjaRuntime.error(
              "TypeError: 'in <string>' requires string as left operand, not " + typeName(x));
        }
        yield s.contains(sx);
      }
      case Map<?, ?> m -> m.keySet().stream().anyMatch(k -> PyValues.equal(k, x));
      case Collection<?> items -> items.stream().anyMatch(e -> PyValues.equal(e, x));
      default ->
          throw JinjaRuntime.error(
              "TypeError: argument of type '" + typeName(c) + "' is not iterable");
    };
  }

  /** Python {@code obj[key]}; a missing key or index gives undefined, as in Jinja2. */
  static Object getItem(Object object, Object key) {
    Object o = unwrap(object);
    Object k = unwrap(key);
    switch (o) {
      case null -> {
        return null;
      }
      case Map<?, ?> m -> {
        return m.get(k);
      }
      case List<?> l when isIntegral(k) -> {
        long i = ((Number) k).longValue();
        long index = i < 0 ? i + l.size() : i;
        return index >= 0 && index < l.size() ? l.get((int) index) : null;
      }
      case String s when isIntegral(k) -> {
        int n = s.codePointCount(0, s.length());
        long i = ((Number) k).longValue();
        long index = i < 0 ? i + n : i;
        if (index < 0 || index >= n) {
          return null;
        }
        int at = s.offsetByCodePoints(0, (int) index);
        return new String(Character.toChars(s.codePointAt(at)));
      }
      default -> {
        return k instanceof String name ? getAttr(o, name) : null;
      }
    }
  }

  /** Python {@code obj.name}: dict keys first, Jinjava objects (loop, namespace) by property. */
  static Object getAttr(Object object, String name) {
    Object o = unwrap(object);
    return switch (o) {
      case null -> null;
      case Map<?, ?> m -> m.get(name);
      case String s -> null;
      case Number n -> null;
      case Boolean b -> null;
      case List<?> l -> null;
      default -> JinjavaInterpreter.getCurrent().resolveProperty(o, name);
    };
  }

  /** Python {@code obj[start:stop:step]} on lists and strings. */
  static Object slice(Object object, Object start, Object stop, Object step) {
    Object o = unwrap(object);
    List<?> items;
    boolean isString = o instanceof String;
    if (o instanceof String s) {
      items = s.codePoints().mapToObj(Character::toString).toList();
    } else if (o instanceof List<?> l) {
      items = l;
    } else {
      throw JinjaRuntime.error("TypeError: '" + typeName(o) + "' object is not subscriptable");
    }
    int n = items.size();
    int st = step == null ? 1 : sliceIndex(step);
    if (st == 0) {
      throw JinjaRuntime.error("ValueError: slice step cannot be zero");
    }
    int lo = bound(start, n, st > 0 ? 0 : n - 1, st);
    int hi = bound(stop, n, st > 0 ? n : -1, st);
    List<Object> result = new ArrayList<>();
    for (int i = lo; st > 0 ? i < hi : i > hi; i += st) {
      result.add(items.get(i));
    }
    if (isString) {
      StringBuilder sb = new StringBuilder();
      result.forEach(sb::append);
      return sb.toString();
    }
    return result;
  }

  private static int sliceIndex(Object v) {
    Object x = unwrap(v);
    if (!isIntegral(x)) {
      throw JinjaRuntime.error("TypeError: slice indices must be integers or None");
    }
    return (int) Math.max(Integer.MIN_VALUE / 2, Math.min(Integer.MAX_VALUE / 2, ((Number) x).longValue()));
  }

  /** Clamps a slice bound the way CPython's {@code PySlice_AdjustIndices} does. */
  private static int bound(Object value, int n, int dflt, int step) {
    if (unwrap(value) == null) {
      return dflt;
    }
    int i = sliceIndex(value);
    if (i < 0) {
      i += n;
      if (i < 0) {
        i = step < 0 ? -1 : 0;
      }
    } else if (i >= n) {
      i = step < 0 ? n - 1 : n;
    }
    return i;
  }

  /** What a {@code for} loop iterates: list items, dict keys, string characters; undefined is empty. */
  static List<?> iterate(Object value) {
    Object v = unwrap(value);
    return switch (v) {
      case null -> List.of();
      case List<?> l -> l;
      case Map<?, ?> m -> new ArrayList<>(m.keySet());
      case String s -> s.codePoints().mapToObj(Character::toString).toList();
      case Collection<?> c -> new ArrayList<>(c);
      case Iterable<?> it -> {
        List<Object> out = new ArrayList<>();
        it.forEach(out::add);
        yield out;
      }
      default ->
          throw JinjaRuntime.error("TypeError: '" + typeName(v) + "' object is not iterable");
    };
  }

  /** A dict literal from its {@code [key, value]} pairs, keeping insertion order. */
  static Map<Object, Object> dict(List<?> pairs) {
    Map<Object, Object> map = new LinkedHashMap<>();
    for (Object pair : pairs) {
      List<?> kv = (List<?>) pair;
      map.put(unwrap(kv.get(0)), kv.get(1));
    }
    return map;
  }
}
