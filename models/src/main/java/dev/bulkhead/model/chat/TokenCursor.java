package dev.bulkhead.model.chat;

import dev.bulkhead.model.chat.ExprToken.Type;
import java.util.List;

/** Navigation over the tokens of one tag, with syntax errors that name the template line. */
class TokenCursor {

  private final List<ExprToken> tokens;
  private final int line;
  private int pos;

  TokenCursor(List<ExprToken> tokens, int line) {
    this.tokens = List.copyOf(tokens);
    this.line = line;
  }

  void skip(int count) {
    pos = Math.min(pos + count, tokens.size() - 1);
  }

  ExprToken peek() {
    return tokens.get(pos);
  }

  ExprToken peek(int ahead) {
    return tokens.get(Math.min(pos + ahead, tokens.size() - 1));
  }

  ExprToken next() {
    ExprToken t = tokens.get(pos);
    if (t.type() != Type.END) {
      pos++;
    }
    return t;
  }

  boolean skipName(String name) {
    if (peek().isName(name)) {
      pos++;
      return true;
    }
    return false;
  }

  boolean skipOp(String op) {
    if (peek().isOp(op)) {
      pos++;
      return true;
    }
    return false;
  }

  void expectOp(String op) {
    if (!skipOp(op)) {
      throw fail("expected '" + op + "'");
    }
  }

  String expectName() {
    ExprToken t = next();
    if (t.type() != Type.NAME) {
      throw fail("expected a name, got '" + t.text() + "'");
    }
    return t.text();
  }

  void expectEnd() {
    if (peek().type() != Type.END) {
      throw fail("unexpected '" + peek().text() + "'");
    }
  }

  boolean atEnd() {
    return peek().type() == Type.END;
  }

  ChatTemplateException fail(String message) {
    return new ChatTemplateException("Template syntax error at line " + line + ": " + message);
  }

}
