package dev.bulkhead.model.chat;

/** Python's notion of whitespace and the strip family, shared by the lexer and the string methods. */
final class PyText {

  private PyText() {}

  /**
   * True when Python's {@code str.isspace()} holds for this code point.
   *
   * <p>NOTE: Java's {@link Character#isWhitespace} excludes no-break spaces and includes nothing
   * Python lacks, so the exact Python set is spelled out here.
   */
  static boolean isSpace(int cp) {
    return switch (cp) {
      case '\t', '\n', 0x0b, '\f', '\r', 0x1c, 0x1d, 0x1e, 0x1f, ' ', 0x85, 0xa0, 0x1680, 0x2028,
          0x2029, 0x202f, 0x205f, 0x3000 -> true;
      default -> cp >= 0x2000 && cp <= 0x200a;
    };
  }

  /** True when the string is non-empty and all Python whitespace. */
  static boolean isAllSpace(CharSequence s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      if (!isSpace(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  /** Python {@code s.lstrip(chars)}; a null {@code chars} strips whitespace. */
  static String lstrip(String s, String chars) {
    int start = 0;
    while (start < s.length() && strippable(s.charAt(start), chars)) {
      start++;
    }
    return s.substring(start);
  }

  /** Python {@code s.rstrip(chars)}; a null {@code chars} strips whitespace. */
  static String rstrip(String s, String chars) {
    int end = s.length();
    while (end > 0 && strippable(s.charAt(end - 1), chars)) {
      end--;
    }
    return s.substring(0, end);
  }

  /** Python {@code s.strip(chars)}; a null {@code chars} strips whitespace. */
  static String strip(String s, String chars) {
    return lstrip(rstrip(s, chars), chars);
  }

  private static boolean strippable(char c, String chars) {
    return chars == null ? isSpace(c) : chars.indexOf(c) >= 0;
  }
}
