package dev.bulkhead.model.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A Jinja2 filter with Python semantics, registered over Jinjava's filter of the same name where
 * that one differs (whitespace set of {@code trim}, JSON spacing of {@code tojson}, Python
 * {@code str()} in {@code string} and {@code join}, ...).
 *
 * @param name the filter name used in templates
 * @param body the filter: (value, positional args, keyword args) to result
 */
record PyFilter(String name, Body body) implements Filter {

  /** The computation of one filter. */
  @FunctionalInterface
  interface Body {
    Object apply(Object value, List<Object> args, Map<String, Object> kwargs);
  }

  PyFilter {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(body, "body");
  }

  @Override
  public String getName() {
    return name;
  }

  @Override
  public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
    return body.apply(var, Arrays.asList((Object[]) args), Map.of());
  }

  @Override
  public Object filter(
      Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
    return body.apply(var, Arrays.asList(args), kwargs);
  }

  /** The filters this renderer overrides. */
  static List<PyFilter> all() {
    return List.of(
        new PyFilter("tojson", PyFilter::toJson),
        new PyFilter("trim", (v, a, k) -> PyText.strip(PyValues.str(v), optionalString(a, k, "chars"))),
        new PyFilter("string", (v, a, k) -> PyValues.str(v)),
        new PyFilter("upper", (v, a, k) -> PyValues.str(v).toUpperCase(java.util.Locale.ROOT)),
        new PyFilter("lower", (v, a, k) -> PyValues.str(v).toLowerCase(java.util.Locale.ROOT)),
        new PyFilter("capitalize", (v, a, k) -> PyStrings.call(PyValues.str(v), "capitalize", List.of())),
        new PyFilter("title", (v, a, k) -> PyStrings.call(PyValues.str(v), "title", List.of())),
        new PyFilter("join", PyFilter::join),
        new PyFilter("items", PyFilter::items),
        new PyFilter("length", PyFilter::length),
        new PyFilter("count", PyFilter::length),
        new PyFilter("list", (v, a, k) -> new java.util.ArrayList<>(PyOps.iterate(v))),
        new PyFilter("first", (v, a, k) -> {
          List<?> items = PyOps.iterate(v);
          return items.isEmpty() ? null : items.get(0);
        }),
        new PyFilter("last", (v, a, k) -> {
          List<?> items = PyOps.iterate(v);
          return items.isEmpty() ? null : items.get(items.size() - 1);
        }));
  }

  private static Object toJson(Object value, List<Object> args, Map<String, Object> kwargs) {
    Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : (args.isEmpty() ? null : args.get(0));
    boolean sortKeys = PyValues.truth(kwargs.get("sort_keys"));
    return PyJson.of(indent, kwargs.get("separators"), sortKeys).dumps(value);
  }

  private static String optionalString(List<Object> args, Map<String, Object> kwargs, String key) {
    Object v = kwargs.containsKey(key) ? kwargs.get(key) : (args.isEmpty() ? null : args.get(0));
    return PyValues.unwrap(v) == null ? null : PyValues.str(v);
  }

  private static Object join(Object value, List<Object> args, Map<String, Object> kwargs) {
    String sep = args.isEmpty() ? PyValues.str(kwargs.getOrDefault("d", "")) : PyValues.str(args.get(0));
    Object attribute = kwargs.containsKey("attribute") ? kwargs.get("attribute")
        : (args.size() > 1 ? args.get(1) : null);
    List<String> parts = new java.util.ArrayList<>();
    for (Object item : PyOps.iterate(value)) {
      parts.add(PyValues.str(attribute == null ? item : PyOps.getItem(item, attribute)));
    }
    return String.join(sep, parts);
  }

  private static Object items(Object value, List<Object> args, Map<String, Object> kwargs) {
    Object v = PyValues.unwrap(value);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof Map<?, ?>)) {
      throw JinjaRuntime.error("TypeError: items filter needs a mapping, got " + PyValues.typeName(v));
    }
    return PyMethods.call(v, "items", List.of());
  }

  private static Object length(Object value, List<Object> args, Map<String, Object> kwargs) {
    Object v = PyValues.unwrap(value);
    return switch (v) {
      case null -> 0L;
      case String s -> (long) s.codePointCount(0, s.length());
      case java.util.Collection<?> c -> (long) c.size();
      case Map<?, ?> m -> (long) m.size();
      default -> throw JinjaRuntime.error("TypeError: object of type '" + PyValues.typeName(v) + "' has no len()");
    };
  }
}
