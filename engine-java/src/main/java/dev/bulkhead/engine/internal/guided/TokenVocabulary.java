package dev.bulkhead.engine.internal.guided;

import dev.bulkhead.model.tokenizer.ByteLevelAlphabet;
import dev.bulkhead.model.tokenizer.Tokenizer;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The exact UTF-8 bytes each token id adds to the output, or null for tokens that add no text of their own
 * (BOS, EOS, chat markers and other special tokens), which guided decoding must never place inside JSON.
 *
 * <p>Bytes come from the stored vocabulary entry, in whichever of the two encodings the vocabulary uses:
 * byte-level BPE (GPT-2, Llama 3, Qwen: each byte is a printable stand-in such as {@code Ġ} for space) or
 * SentencePiece ({@code ▁} for space, {@code <0xNN>} byte-fallback tokens). Decoding single tokens cannot
 * give these bytes (a token holding part of a UTF-8 character decodes to U+FFFD), but it does tell special
 * tokens apart: an entry is kept only when the tokenizer's own decode of it, special tokens skipped, agrees
 * with the bytes (up to the leading space SentencePiece drops at the start of a text).
 */
public final class TokenVocabulary {

    private static final Logger LOG = LoggerFactory.getLogger(TokenVocabulary.class);
    private static final Pattern BYTE_TOKEN = Pattern.compile("<0x([0-9A-Fa-f]{2})>");
    private static final char SPIECE_SPACE = '\u2581';
    /** GPT-2's bytes_to_unicode, inverted: stand-in char to byte, -1 for chars that stand for none. */

    private final byte[][] bytes;

    private TokenVocabulary(byte[][] bytes) {
        this.bytes = bytes;
    }

    /** A vocabulary given directly as bytes per id (null entries for special tokens); for tests. */
    public static TokenVocabulary ofBytes(byte[][] bytes) {
        return new TokenVocabulary(bytes.clone());
    }

    /** Reads every token of {@code tokenizer}; costs one decode per token, so build it once per tokenizer. */
    public static TokenVocabulary of(Tokenizer tokenizer) {
        long start = System.nanoTime();
        int n = tokenizer.vocabSize();
        boolean byteLevel = isByteLevel(tokenizer);
        byte[][] bytes = new byte[n][];
        int special = 0;
        for (int id = 0; id < n; id++) {
            String text = tokenizer.tokenText(id);
            byte[] b = text.isEmpty() ? null : byteLevel ? byteLevelBytes(text) : sentencePieceBytes(text);
            if (b != null && (id == tokenizer.bosId() || id == tokenizer.eosId() || !decodesAs(tokenizer, id, b))) {
                b = null;
            }
            if (b == null) {
                special++;
            }
            bytes[id] = b;
        }
        LOG.info("guided decoding vocabulary: {} tokens ({} encoding), {} without text of their own, built in {} ms",
                n, byteLevel ? "byte-level" : "SentencePiece", special, (System.nanoTime() - start) / 1_000_000);
        return new TokenVocabulary(bytes);
    }

    /** Number of ids. */
    public int size() {
        return bytes.length;
    }

    /** The bytes of {@code id}, or null when it adds no text (special) or is out of range. Not a copy. */
    byte[] bytes(int id) {
        return id >= 0 && id < bytes.length ? bytes[id] : null;
    }

    /** A copy of the bytes of {@code id}, or null. */
    public byte[] tokenBytes(int id) {
        byte[] b = bytes(id);
        return b == null ? null : b.clone();
    }

    /** Byte-level vocabularies spell spaces {@code Ġ} and never use {@code ▁}; SentencePiece the reverse. */
    private static boolean isByteLevel(Tokenizer t) {
        int byteLevel = 0;
        int spiece = 0;
        for (int id = 0; id < t.vocabSize(); id++) {
            String s = t.tokenText(id);
            if (s.indexOf('\u0120') >= 0 || s.indexOf('\u010a') >= 0) {
                byteLevel++;
            }
            if (s.indexOf(SPIECE_SPACE) >= 0) {
                spiece++;
            }
        }
        return byteLevel > spiece;
    }

    /** The bytes of a byte-level entry; an added token stored as plain text is its UTF-8. */
    static byte[] byteLevelBytes(String text) {
        byte[] out = new byte[text.length()];
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            int b = ByteLevelAlphabet.byteOf(c);
            if (b < 0) {
                return text.getBytes(StandardCharsets.UTF_8);
            }
            out[i] = (byte) b;
        }
        return out;
    }

    /** The bytes of a SentencePiece entry: {@code <0xNN>} is one byte, {@code ▁} a space. */
    static byte[] sentencePieceBytes(String text) {
        Matcher m = BYTE_TOKEN.matcher(text);
        if (m.matches()) {
            return new byte[] {(byte) Integer.parseInt(m.group(1), 16)};
        }
        return text.replace(SPIECE_SPACE, ' ').getBytes(StandardCharsets.UTF_8);
    }

    private static boolean decodesAs(Tokenizer t, int id, byte[] b) {
        String decoded = t.decode(new int[] {id}, true);
        String expected = strictUtf8(b);
        if (expected == null) {
            // NOTE: part of a character decodes to U+FFFD; a special token would have decoded to nothing.
            return !decoded.isEmpty();
        }
        return decoded.equals(expected) || expected.startsWith(" ") && decoded.equals(expected.substring(1));
    }

    private static String strictUtf8(byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
