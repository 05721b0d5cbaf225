package dev.bulkhead.model.chat;

import static dev.bulkhead.model.chat.PyValues.isIntegral;
import static dev.bulkhead.model.chat.PyValues.unwrap;

import com.hubspot.jinjava.lib.fn.MacroFunction;
import java.math.BigInteger;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Jinja2's built-in tests ({@code x is string}, {@code x is not none}, ...). */
final class PyTests {

  private PyTests() {}

  /** Evaluates {@code value is name(args)}. */
  static boolean test(Object value, String name, List<?> rawArgs) {
    Object v = unwrap(value);
    List<Object> args = rawArgs.stream().map(PyValues::unwrap).toList();
    return switch (name) {
      case "defined" -> v != null;
      case "undefined", "none" -> v == null;
      case "string" -> v instanceof String;
      case "mapping" -> v instanceof Map;
      case "sequence" -> v instanceof String || v instanceof List || v instanceof Map;
      case "iterable" -> v instanceof String || v instanceof Iterable || v instanceof Map;
      case "number" -> v instanceof Number || v instanceof Boolean;
      case "integer" -> isIntegral(v);
      case "float" -> v instanceof Number && !isIntegral(v);
      case "boolean" -> v instanceof Boolean;
      case "true" -> Boolean.TRUE.equals(v);
      case "false" -> Boolean.FALSE.equals(v);
      case "callable" -> v instanceof MacroFunction || v instanceof JinjaRuntime.Builtin;
      case "odd", "even" -> {
        if (!isIntegral(v)) {
          throw JinjaRuntime.error("TypeError: test '" + name + "' needs an integer");
        }
        boolean odd = PyValues.toBigInteger(v).testBit(0);
        yield name.equals("odd") == odd;
      }
      case "divisibleby" -> {
        arg(name, args);
        BigInteger divisor = PyValues.toBigInteger(args.get(0));
        yield divisor.signum() != 0 && PyValues.toBigInteger(v).mod(divisor.abs()).signum() == 0;
      }
      case "eq", "equalto", "==" -> PyValues.equal(v, arg(name, args));
      case "ne", "!=" -> !PyValues.equal(v, arg(name, args));
      case "lt", "lessthan", "<" -> PyValues.order(v, arg(name, args), "<") < 0;
      case "le", "<=" -> PyValues.order(v, arg(name, args), "<=") <= 0;
      case "gt", "greaterthan", ">" -> PyValues.order(v, arg(name, args), ">") > 0;
      case "ge", ">=" -> PyValues.order(v, arg(name, args), ">=") >= 0;
      case "in" -> PyOps.contains(arg(name, args), v);
      case "lower" -> v instanceof String s && s.equals(s.toLowerCase(Locale.ROOT));
      case "upper" -> v instanceof String s && s.equals(s.toUpperCase(Locale.ROOT));
      case "sameas" -> {
        Object other = arg(name, args);
        yield v == other || (v instanceof Boolean && v.equals(other));
      }
      case "escaped" -> false;
      default -> throw JinjaRuntime.error("TemplateRuntimeError: No test named '" + name + "'.");
    };
  }

  private static Object arg(String name, List<Object> args) {
    if (args.size() != 1) {
      throw JinjaRuntime.error("TypeError: test '" + name + "' takes exactly one argument");
    }
    return args.get(0);
  }
}
