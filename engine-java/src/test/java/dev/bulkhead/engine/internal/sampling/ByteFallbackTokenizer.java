package dev.bulkhead.engine.internal.sampling;

import dev.bulkhead.model.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A tiny SentencePiece-style tokenizer for tests, decoding like Llama 2's tokenizer.json: {@code ▁} becomes a
 * space, {@code <0xNN>} tokens are raw bytes (malformed UTF-8 becomes U+FFFD), and one leading space of the
 * result is stripped. Ids: 0 {@code <unk>}, 1 {@code <s>}, 2 {@code </s>} (special), 3..258 the bytes
 * 0x00..0xFF, then the given pieces.
 */
final class ByteFallbackTokenizer implements Tokenizer {

    static final int BOS = 1;
    static final int EOS = 2;
    private static final int FIRST_BYTE = 3;

    private final List<String> vocab = new ArrayList<>();
    private final Map<String, Integer> ids = new HashMap<>();

    ByteFallbackTokenizer(String... pieces) {
        add("<unk>");
        add("<s>");
        add("</s>");
        for (int b = 0; b < 256; b++) {
            add(String.format("<0x%02X>", b));
        }
        for (String p : pieces) {
            add(p);
        }
    }

    private void add(String token) {
        ids.put(token, vocab.size());
        vocab.add(token);
    }

    /** Id of a piece, failing loudly on typos in tests. */
    int id(String piece) {
        Integer id = ids.get(piece);
        if (id == null) {
            throw new IllegalArgumentException("no piece " + piece);
        }
        return id;
    }

    /** Id of the byte-fallback token for {@code b}. */
    static int byteId(int b) {
        return FIRST_BYTE + (b & 0xff);
    }

    /** The byte-fallback ids of {@code text}'s UTF-8 bytes. */
    static int[] byteIds(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] out = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = byteId(bytes[i]);
        }
        return out;
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        String s = "\u2581" + text.replace(' ', '\u2581');
        List<Integer> out = new ArrayList<>();
        if (addSpecialTokens) {
            out.add(BOS);
        }
        int i = 0;
        while (i < s.length()) {
            int best = 0;
            for (int len = s.length() - i; len > 0; len--) {
                Integer id = ids.get(s.substring(i, i + len));
                if (id != null && id > FIRST_BYTE + 255) {
                    out.add(id);
                    best = len;
                    break;
                }
            }
            if (best == 0) {
                int cp = s.codePointAt(i);
                best = Character.charCount(cp);
                for (int id : byteIds(new String(Character.toChars(cp)))) {
                    out.add(id);
                }
            }
            i += best;
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public String decode(int[] tokenIds, boolean skipSpecialTokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : tokenIds) {
            if (id < FIRST_BYTE) {
                if (!skipSpecialTokens) {
                    bytes.writeBytes(vocab.get(id).getBytes(StandardCharsets.UTF_8));
                }
            } else if (id < FIRST_BYTE + 256) {
                bytes.write(id - FIRST_BYTE);
            } else {
                bytes.writeBytes(vocab.get(id).replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8));
            }
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        return text.startsWith(" ") ? text.substring(1) : text;
    }

    @Override
    public int vocabSize() {
        return vocab.size();
    }

    @Override
    public String tokenText(int id) {
        return vocab.get(id);
    }

    @Override
    public int tokenId(String token) {
        return ids.getOrDefault(token, -1);
    }

    @Override
    public int bosId() {
        return BOS;
    }

    @Override
    public int eosId() {
        return EOS;
    }
}
