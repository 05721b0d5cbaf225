package dev.bulkhead.model.tokenizer;

import java.util.Arrays;

/**
 * GPT-2's byte-level BPE alphabet: a bijection from the 256 byte values to printable characters (printable Latin-1
 * maps to itself, every other byte to U+0100 and up, in byte order), so vocabularies can store any byte sequence as
 * text. {@code Ġ} is the space byte, {@code Ċ} the newline.
 */
public final class ByteLevelAlphabet {

    private static final char[] CHAR_OF = new char[256];
    private static final int[] BYTE_OF = new int[512];

    static {
        Arrays.fill(BYTE_OF, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = (char) (printable ? b : next++);
            CHAR_OF[b] = c;
            BYTE_OF[c] = b;
        }
    }

    private ByteLevelAlphabet() {
    }

    /** The character that stands for byte {@code b} (0..255). */
    public static char charOf(int b) {
        return CHAR_OF[b];
    }

    /** The byte {@code c} stands for, or -1 when {@code c} is not in the alphabet. */
    public static int byteOf(char c) {
        return c < BYTE_OF.length ? BYTE_OF[c] : -1;
    }
}
