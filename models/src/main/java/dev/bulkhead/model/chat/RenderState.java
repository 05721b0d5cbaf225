package dev.bulkhead.model.chat;

import java.time.Clock;
import java.util.Objects;

/**
 * Per-render mutable state, bound into the Jinjava context: the clock for {@code strftime_now} and
 * the first error raised while rendering.
 *
 * <p>NOTE: Jinjava records exceptions from functions and filters as template errors and keeps
 * rendering; the first error is kept here so the render can fail with the template's own message.
 */
final class RenderState {

  private final Clock clock;
  private String error;

  RenderState(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  Clock clock() {
    return clock;
  }

  void recordError(String message) {
    if (error == null) {
      error = message;
    }
  }

  String error() {
    return error;
  }
}
