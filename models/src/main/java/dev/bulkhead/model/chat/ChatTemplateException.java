package dev.bulkhead.model.chat;

/**
 * A chat template could not be loaded, compiled or rendered: a syntax error, an unsupported construct,
 * a runtime type error, or a {@code raise_exception(...)} call made by the template itself (then the
 * message is the template's own text).
 */
public class ChatTemplateException extends RuntimeException {

  /**
   * @param message what went wrong, in words a template author can act on
   */
  public ChatTemplateException(String message) {
    super(message);
  }

  /**
   * @param message what went wrong
   * @param cause the underlying failure
   */
  public ChatTemplateException(String message, Throwable cause) {
    super(message, cause);
  }
}
