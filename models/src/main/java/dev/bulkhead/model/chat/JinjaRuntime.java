package dev.bulkhead.model.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * The functions translated templates call, and the Jinjava instance configured to run them.
 *
 * <p>Every public static method here is registered as a Jinjava function named {@link #PREFIX} +
 * its name (the two Jinja2 globals keep their own names). They are thin entry points over the
 * {@code Py*} classes that hold the Python semantics.
 */
final class JinjaRuntime {

  /** Prefix of every helper function the translator emits. */
  static final String PREFIX = "__bh_";
  /** Context variable holding the template's string constants. */
  static final String STRINGS_VAR = "__bh_s";
  /** Context variable holding the {@link RenderState}. */
  static final String STATE_VAR = "__bh_state";

  /** Names of the Jinja2 globals transformers adds; bound as values so {@code is defined} holds. */
  static final List<String> GLOBALS = List.of("raise_exception", "strftime_now");
  private static final int MAX_MACRO_DEPTH = 100;

  private JinjaRuntime() {}

  /**
   * The value bound to a global function's name. Calls still resolve to the registered function;
   * the binding only makes {@code strftime_now is defined} true, as templates test it.
   *
   * @param name the global's name
   */
  record Builtin(String name) {
    @Override
    public String toString() {
      return "<built-in function " + name + ">";
    }
  }

  /** A Jinjava engine with Python-faithful settings, helper functions and filter overrides. */
  static Jinjava newJinjava() {
    JinjavaConfig config =
        JinjavaConfig.newBuilder()
            // NOTE: output must never be re-parsed as a template (user text may contain "{{").
            .withNestedInterpretationEnabled(false)
            .withTrimBlocks(false)
            .withLstripBlocks(false)
            // NOTE: Jinjava silently renders "" for a recursive macro call unless enabled; Jinja2
            // allows recursion (e.g. JSON-schema-to-type macros) and fails only on runaway depth.
            .withEnableRecursiveMacroCalls(true)
            .withMaxMacroRecursionDepth(MAX_MACRO_DEPTH)
            .withLegacyOverrides(
                LegacyOverrides.newBuilder()
                    .withEvaluateMapKeys(true)
                    .withIterateOverMapKeys(true)
                    .build())
            .build();
    Jinjava jinjava = new Jinjava(config);
    for (Method m : JinjaRuntime.class.getDeclaredMethods()) {
      if (Modifier.isPublic(m.getModifiers()) && Modifier.isStatic(m.getModifiers())) {
        m.setAccessible(true);
        String name = switch (m.getName()) {
          case "raiseException" -> "raise_exception";
          case "strftimeNow" -> "strftime_now";
          default -> PREFIX + m.getName();
        };
        jinjava.registerFunction(new ELFunctionDefinition("", name, m));
      }
    }
    PyFilter.all().forEach(jinjava::registerFilter);
    return jinjava;
  }

  /** Records a render error (the first one wins) and returns the exception to throw. */
  static ChatTemplateException error(String message) {
    RenderState state = currentState();
    if (state != null) {
      state.recordError(message);
    }
    return new ChatTemplateException(message);
  }

  private static RenderState currentState() {
    JinjavaInterpreter interpreter = JinjavaInterpreter.getCurrent();
    return interpreter == null
        ? null
        : interpreter.getContext().get(STATE_VAR) instanceof RenderState s ? s : null;
  }

  public static Object raiseException(Object message) {
    throw error(PyValues.str(message));
  }

  public static String strftimeNow(Object format) {
    RenderState state = currentState();
    if (state == null) {
      throw error("strftime_now called outside a render");
    }
    return Strftime.format(PyValues.str(format), ZonedDateTime.now(state.clock()));
  }

  public static boolean truth(Object v) {
    return PyValues.truth(v);
  }

  public static String str(Object v) {
    return PyValues.str(v);
  }

  public static boolean compare(Object a, Object op, Object b) {
    return switch ((String) op) {
      case "==" -> PyValues.equal(a, b);
      case "!=" -> !PyValues.equal(a, b);
      case "<" -> PyValues.order(a, b, "<") < 0;
      case "<=" -> PyValues.order(a, b, "<=") <= 0;
      case ">" -> PyValues.order(a, b, ">") > 0;
      case ">=" -> PyValues.order(a, b, ">=") >= 0;
      default -> throw error("unknown comparison " + op);
    };
  }

  public static boolean contains(Object container, Object item) {
    return PyOps.contains(container, item);
  }

  public static Object add(Object a, Object b) {
    return PyOps.add(a, b);
  }

  public static Object sub(Object a, Object b) {
    return PyOps.sub(a, b);
  }

  public static Object mul(Object a, Object b) {
    return PyOps.mul(a, b);
  }

  public static Object div(Object a, Object b) {
    return PyOps.div(a, b);
  }

  public static Object floordiv(Object a, Object b) {
    return PyOps.floorDiv(a, b);
  }

  public static Object mod(Object a, Object b) {
    return PyOps.mod(a, b);
  }

  public static Object pow(Object a, Object b) {
    return PyOps.pow(a, b);
  }

  public static Object neg(Object a) {
    return PyOps.neg(a);
  }

  public static String concat(Object a, Object b) {
    return PyValues.str(a) + PyValues.str(b);
  }

  public static Object getitem(Object o, Object key) {
    return PyOps.getItem(o, key);
  }

  public static Object getattr(Object o, Object name) {
    return PyOps.getAttr(o, (String) name);
  }

  public static Object slice(Object o, Object start, Object stop, Object step) {
    return PyOps.slice(o, start, stop, step);
  }

  public static Object call(Object o, Object method, Object args) {
    return PyMethods.call(o, (String) method, (List<?>) args);
  }

  public static boolean test(Object o, Object name, Object args) {
    return PyTests.test(o, (String) name, (List<?>) args);
  }

  public static Object iter(Object o) {
    return PyOps.iterate(o);
  }

  public static Object newlist() {
    return new ArrayList<>();
  }

  @SuppressWarnings("unchecked")
  public static Object append(Object list, Object item) {
    ((List<Object>) list).add(PyValues.unwrap(item));
    return null;
  }

  public static Object dict(Object pairs) {
    return PyOps.dict((List<?>) pairs);
  }
}
