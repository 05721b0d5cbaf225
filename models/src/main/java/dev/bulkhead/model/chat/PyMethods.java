package dev.bulkhead.model.chat;

import static dev.bulkhead.model.chat.PyValues.typeName;
import static dev.bulkhead.model.chat.PyValues.unwrap;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Python {@code str}, {@code dict} and {@code list} methods that chat templates call, with the
 * restrictions of Jinja2's {@code ImmutableSandboxedEnvironment} (no mutating methods).
 */
final class PyMethods {

  private static final Set<String> MUTATORS =
      Set.of("append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault", "sort",
          "reverse", "popitem");

  private PyMethods() {}

  /** Calls {@code receiver.name(*args)}. */
  static Object call(Object receiver, String name, List<?> rawArgs) {
    Object r = unwrap(receiver);
    List<Object> args = rawArgs.stream().map(PyValues::unwrap).toList();
    if (r == null) {
      throw JinjaRuntime.error(
          "UndefinedError: cannot call '" + name + "' on an undefined value or None");
    }
    if (MUTATORS.contains(name) && (r instanceof List || r instanceof Map)) {
      throw JinjaRuntime.error(
          "SecurityError: access to attribute '" + name + "' of '" + typeName(r)
              + "' object is unsafe.");
    }
    Object result = switch (r) {
      case String s -> PyStrings.call(s, name, args);
      case Map<?, ?> m -> dictMethod(m, name, args);
      case List<?> l -> listMethod(l, name, args);
      default -> null;
    };
    if (result == null && !(r instanceof Map && name.equals("get"))) {
      throw JinjaRuntime.error(
          "UndefinedError: '" + typeName(r) + " object' has no attribute '" + name + "'");
    }
    return result;
  }

  private static Object dictMethod(Map<?, ?> m, String name, List<Object> args) {
    return switch (name) {
      case "items" -> {
        List<Object> pairs = new ArrayList<>();
        m.forEach((k, v) -> pairs.add(java.util.Arrays.asList(k, v)));
        yield pairs;
      }
      case "keys" -> new ArrayList<>(m.keySet());
      case "values" -> new ArrayList<>(m.values());
      case "get" -> {
        arity("get", args, 1, 2);
        Object v = m.get(args.get(0));
        yield v != null || m.containsKey(args.get(0)) || args.size() < 2 ? v : args.get(1);
      }
      case "copy" -> new LinkedHashMap<>(m);
      default -> null;
    };
  }

  private static Object listMethod(List<?> l, String name, List<Object> args) {
    return switch (name) {
      case "index" -> {
        arity("index", args, 1, 1);
        for (int i = 0; i < l.size(); i++) {
          if (PyValues.equal(l.get(i), args.get(0))) {
            yield (long) i;
          }
        }
        throw JinjaRuntime.error("ValueError: " + PyValues.repr(args.get(0)) + " is not in list");
      }
      case "count" -> {
        arity("count", args, 1, 1);
        yield l.stream().filter(e -> PyValues.equal(e, args.get(0))).count();
      }
      case "copy" -> new ArrayList<>(l);
      default -> null;
    };
  }

  static void arity(String name, List<?> args, int min, int max) {
    if (args.size() < min || args.size() > max) {
      String expected = min == max ? String.valueOf(min) : min + " to " + max;
      throw JinjaRuntime.error(
          "TypeError: " + name + "() takes " + expected + " arguments (" + args.size() + " given)");
    }
  }
}
