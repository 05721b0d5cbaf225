package dev.bulkhead.engine.internal.guided;

/**
 * The byte-level lexical rules of JSON strings and numbers (RFC 8259) as pure functions of a small int
 * state, so that {@link JsonAutomaton} can keep that state inside one stack frame and copy it cheaply.
 */
final class JsonLexer {

    /** {@link #stringStep} result for the closing quote. */
    static final int STRING_END = -2;
    /** Any step result for a byte the grammar forbids here. */
    static final int REJECT = -1;
    /** String state right after the opening quote. */
    static final int STRING_START = 0;

    // String state: mode (2 bits) << 24 | continuation bytes still due (3 bits) << 16 | lo << 8 | hi, where
    // [lo, hi] is the range the next UTF-8 continuation byte must fall in (it is narrower than 80..BF after
    // E0, ED, F0 and F4, which rules out overlong forms, surrogates and code points past U+10FFFF).
    private static final int NORMAL = 0;
    private static final int ESCAPE = 1;
    private static final int HEX = 2;
    private static final int UTF8 = 3;

    // Number states. JSON numbers: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
    private static final int MINUS = 0;
    private static final int ZERO = 1;
    private static final int INT = 2;
    private static final int DOT = 3;
    private static final int FRAC = 4;
    private static final int EXP = 5;
    private static final int EXP_SIGN = 6;
    private static final int EXP_DIGITS = 7;

    private JsonLexer() {
    }

    /** The string state after byte {@code b}: a new state, {@link #STRING_END} or {@link #REJECT}. */
    static int stringStep(int state, int b) {
        int mode = state >>> 24;
        switch (mode) {
            case NORMAL -> {
                if (b == '"') {
                    return STRING_END;
                }
                if (b == '\\') {
                    return ESCAPE << 24;
                }
                if (b < 0x20) {
                    return REJECT; // control characters must be escaped
                }
                if (b < 0x80) {
                    return state;
                }
                return utf8Lead(b);
            }
            case ESCAPE -> {
                return switch (b) {
                    case '"', '\\', '/', 'b', 'f', 'n', 'r', 't' -> NORMAL;
                    case 'u' -> HEX << 24 | 4 << 16;
                    default -> REJECT;
                };
            }
            case HEX -> {
                if (!isHexDigit(b)) {
                    return REJECT;
                }
                int due = (state >>> 16 & 7) - 1;
                return due == 0 ? NORMAL : HEX << 24 | due << 16;
            }
            default -> {
                int lo = state >>> 8 & 0xff;
                int hi = state & 0xff;
                if (b < lo || b > hi) {
                    return REJECT;
                }
                int due = (state >>> 16 & 7) - 1;
                return due == 0 ? NORMAL : UTF8 << 24 | due << 16 | 0x80 << 8 | 0xbf;
            }
        }
    }

    private static int utf8Lead(int b) {
        if (b >= 0xc2 && b <= 0xdf) {
            return utf8(1, 0x80, 0xbf);
        }
        if (b == 0xe0) {
            return utf8(2, 0xa0, 0xbf);
        }
        if (b == 0xed) {
            return utf8(2, 0x80, 0x9f);
        }
        if (b >= 0xe1 && b <= 0xef) {
            return utf8(2, 0x80, 0xbf);
        }
        if (b == 0xf0) {
            return utf8(3, 0x90, 0xbf);
        }
        if (b >= 0xf1 && b <= 0xf3) {
            return utf8(3, 0x80, 0xbf);
        }
        if (b == 0xf4) {
            return utf8(3, 0x80, 0x8f);
        }
        return REJECT;
    }

    private static int utf8(int due, int lo, int hi) {
        return UTF8 << 24 | due << 16 | lo << 8 | hi;
    }

    private static boolean isHexDigit(int b) {
        return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
    }

    /** True for the bytes a number may start with. */
    static boolean isNumberStart(int b) {
        return b == '-' || (b >= '0' && b <= '9');
    }

    /** The number state after its first byte, or {@link #REJECT}. */
    static int numberStart(int b) {
        if (b == '-') {
            return MINUS;
        }
        if (b == '0') {
            return ZERO;
        }
        return b >= '1' && b <= '9' ? INT : REJECT;
    }

    /**
     * The number state after byte {@code b}, or {@link #REJECT} when {@code b} cannot extend the number
     * (then, if {@link #numberCanEnd} holds, the byte belongs to whatever follows). Integers take no
     * fraction and no exponent: {@code 1.0} and {@code 1e2} are integers to JSON Schema, but the plain form
     * is the one every consumer parses as an integer.
     */
    static int numberStep(int state, int b, boolean integer) {
        boolean digit = b >= '0' && b <= '9';
        boolean fractionOrExponent = !integer && (b == '.' || b == 'e' || b == 'E');
        return switch (state) {
            case MINUS -> b == '0' ? ZERO : digit ? INT : REJECT;
            case ZERO -> fractionOrExponent ? (b == '.' ? DOT : EXP) : REJECT;
            case INT -> digit ? INT : fractionOrExponent ? (b == '.' ? DOT : EXP) : REJECT;
            case DOT -> digit ? FRAC : REJECT;
            case FRAC -> digit ? FRAC : (!integer && (b == 'e' || b == 'E')) ? EXP : REJECT;
            case EXP -> b == '+' || b == '-' ? EXP_SIGN : digit ? EXP_DIGITS : REJECT;
            case EXP_SIGN, EXP_DIGITS -> digit ? EXP_DIGITS : REJECT;
            default -> REJECT;
        };
    }

    /** True when the number read so far is a complete number. */
    static boolean numberCanEnd(int state) {
        return state == ZERO || state == INT || state == FRAC || state == EXP_DIGITS;
    }
}
