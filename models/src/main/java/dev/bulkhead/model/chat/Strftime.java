package dev.bulkhead.model.chat;

import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.Locale;

/**
 * Python/glibc {@code strftime} in the C locale, for the {@code strftime_now} global. Supports the
 * common conversions and glibc's {@code %-d} style no-padding flag; unknown conversions are copied
 * as written, as glibc does.
 */
final class Strftime {

  private Strftime() {}

  static String format(String pattern, ZonedDateTime t) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < pattern.length(); i++) {
      char c = pattern.charAt(i);
      if (c != '%' || i + 1 >= pattern.length()) {
        sb.append(c);
        continue;
      }
      boolean noPad = pattern.charAt(i + 1) == '-' && i + 2 < pattern.length();
      char code = pattern.charAt(noPad ? i + 2 : i + 1);
      String value = convert(code, t, noPad);
      if (value == null) {
        sb.append(pattern, i, i + (noPad ? 3 : 2));
      } else {
        sb.append(value);
      }
      i += noPad ? 2 : 1;
    }
    return sb.toString();
  }

  private static String convert(char code, ZonedDateTime t, boolean noPad) {
    return switch (code) {
      case 'a' -> t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
      case 'A' -> t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
      case 'b', 'h' -> t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
      case 'B' -> t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
      case 'd' -> num(t.getDayOfMonth(), 2, noPad);
      case 'e' -> noPad ? String.valueOf(t.getDayOfMonth()) : String.format("%2d", t.getDayOfMonth());
      case 'H' -> num(t.getHour(), 2, noPad);
      case 'I' -> num(t.getHour() % 12 == 0 ? 12 : t.getHour() % 12, 2, noPad);
      case 'j' -> num(t.getDayOfYear(), 3, noPad);
      case 'm' -> num(t.getMonthValue(), 2, noPad);
      case 'M' -> num(t.getMinute(), 2, noPad);
      case 'S' -> num(t.getSecond(), 2, noPad);
      case 'f' -> num(t.getNano() / 1000, 6, noPad);
      case 'p' -> t.getHour() < 12 ? "AM" : "PM";
      case 'y' -> num(t.getYear() % 100, 2, noPad);
      case 'Y' -> String.valueOf(t.getYear());
      case 'u' -> String.valueOf(t.getDayOfWeek().getValue());
      case 'w' -> String.valueOf(t.getDayOfWeek().getValue() % 7);
      case 'z' -> t.getOffset().getTotalSeconds() == 0 ? "+0000" : t.getOffset().getId().replace(":", "");
      case 'Z' -> t.getZone().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
      case 'F' -> format("%Y-%m-%d", t);
      case 'T' -> format("%H:%M:%S", t);
      case 'D', 'x' -> format("%m/%d/%y", t);
      case 'X' -> format("%H:%M:%S", t);
      case 'c' -> format("%a %b %e %H:%M:%S %Y", t);
      case '%' -> "%";
      default -> null;
    };
  }

  private static String num(int value, int width, boolean noPad) {
    String s = String.valueOf(value);
    return noPad || s.length() >= width ? s : "0".repeat(width - s.length()) + s;
  }
}
