package dev.bulkhead.model.chat;

import java.util.Objects;

/**
 * One piece of a lexed Jinja2 template: literal text (already whitespace-controlled), the inside of a
 * {@code {{ ... }}} output, or the inside of a {@code {% ... %}} statement.
 *
 * @param kind what the piece is
 * @param content the text, or the tag's inner source without delimiters and whitespace-control signs
 * @param line 1-based line of the piece's start in the template, for error messages
 */
record TemplateSegment(Kind kind, String content, int line) {

  /** The three kinds of piece a template is made of once comments and raw blocks are resolved. */
  enum Kind {
    TEXT,
    OUTPUT,
    STATEMENT
  }

  TemplateSegment {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(content, "content");
    if (line < 1) {
      throw new IllegalArgumentException("line must be >= 1, got " + line);
    }
  }
}
