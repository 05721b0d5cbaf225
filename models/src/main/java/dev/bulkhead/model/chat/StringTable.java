package dev.bulkhead.model.chat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The string constants of one translated template. Each literal is referenced as an index into a
 * list bound at render time, so literal text never passes through Jinjava's parser.
 */
final class StringTable {

  private final List<String> values = new ArrayList<>();
  private final Map<String, Integer> index = new HashMap<>();

  /** Returns the Jinjava expression that yields {@code value} at render time. */
  String literal(String value) {
    int i = index.computeIfAbsent(value, v -> {
      values.add(v);
      return values.size() - 1;
    });
    return JinjaRuntime.STRINGS_VAR + "[" + i + "]";
  }

  /** The constants, in index order. */
  List<String> values() {
    return List.copyOf(values);
  }
}
