package dev.bulkhead.model.chat;

import java.util.Objects;

/**
 * One token of a Jinja2 expression.
 *
 * @param type the token class
 * @param text the source text, or for strings the decoded value
 */
record ExprToken(Type type, String text) {

  /** Token classes of Jinja2's expression lexer. */
  enum Type {
    NAME,
    INTEGER,
    FLOAT,
    STRING,
    OPERATOR,
    END
  }

  ExprToken {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(text, "text");
  }

  boolean is(Type t, String s) {
    return type == t && text.equals(s);
  }

  boolean isOp(String s) {
    return is(Type.OPERATOR, s);
  }

  boolean isName(String s) {
    return is(Type.NAME, s);
  }
}
