package dev.bulkhead.model.gguf;

import dev.bulkhead.model.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Base of the tokenizers built from a GGUF vocabulary. It splits text on special tokens (control, unknown
 * and user-defined tokens are matched whole, longest first, as Hugging Face and llama.cpp with
 * {@code parse_special} do), adds BOS/EOS, and leaves the plain-text fragments to the subclass.
 */
abstract sealed class GgufTokenizer implements Tokenizer permits SpmTokenizer, BpeTokenizer {

    final GgufVocab vocab;
    private final Map<String, Integer> allTokens;
    /** Special token texts grouped by first char, longest first. */
    private final Map<Character, List<String>> specialsByFirstChar;
    private final Map<String, Integer> specials;

    GgufTokenizer(GgufVocab vocab) {
        this.vocab = vocab;
        this.allTokens = vocab.index(t -> true);
        this.specials = vocab.index(t -> t == GgufVocab.CONTROL || t == GgufVocab.UNKNOWN
                || t == GgufVocab.USER_DEFINED);
        Map<Character, List<String>> byChar = new TreeMap<>();
        specials.keySet().stream().filter(s -> !s.isEmpty())
                .sorted(Comparator.comparingInt(String::length).reversed().thenComparing(Comparator.naturalOrder()))
                .forEach(s -> byChar.computeIfAbsent(s.charAt(0), c -> new ArrayList<>()).add(s));
        this.specialsByFirstChar = byChar;
    }

    /** Appends the ids of one fragment of plain text; {@code afterSpecial} is true at the start and after a special token. */
    abstract void encodeText(String text, boolean afterSpecial, List<Integer> out);

    /** Appends the bytes a non-special token stands for. */
    abstract void appendPiece(int id, ByteArrayOutputStream out);

    /** Post-processing of the whole decoded text (SentencePiece drops the prefix space). */
    String finishDecode(String text) {
        return text;
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        List<Integer> ids = new ArrayList<>();
        if (addSpecialTokens && vocab.addBos() && vocab.bosId() >= 0) {
            ids.add(vocab.bosId());
        }
        boolean afterSpecial = true;
        int start = 0;
        int i = 0;
        while (i < text.length()) {
            String special = specialAt(text, i);
            if (special == null) {
                i++;
                continue;
            }
            if (i > start) {
                encodeText(text.substring(start, i), afterSpecial, ids);
            }
            ids.add(specials.get(special));
            afterSpecial = true;
            i += special.length();
            start = i;
        }
        if (start < text.length()) {
            encodeText(text.substring(start), afterSpecial, ids);
        }
        if (addSpecialTokens && vocab.addEos() && vocab.eosId() >= 0) {
            ids.add(vocab.eosId());
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private String specialAt(String text, int i) {
        List<String> candidates = specialsByFirstChar.get(text.charAt(i));
        if (candidates != null) {
            for (String s : candidates) {
                if (text.startsWith(s, i)) {
                    return s;
                }
            }
        }
        return null;
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : ids) {
            if (id < 0 || id >= vocab.tokens().length) {
                throw new IllegalArgumentException("token id " + id + " is outside [0, " + vocab.tokens().length + ")");
            }
            int type = vocab.types()[id];
            if (type == GgufVocab.CONTROL || type == GgufVocab.UNKNOWN) {
                if (!skipSpecialTokens) {
                    bytes.writeBytes(vocab.tokens()[id].getBytes(StandardCharsets.UTF_8));
                }
            } else if (type == GgufVocab.USER_DEFINED) {
                bytes.writeBytes(vocab.tokens()[id].getBytes(StandardCharsets.UTF_8));
            } else {
                appendPiece(id, bytes);
            }
        }
        return finishDecode(bytes.toString(StandardCharsets.UTF_8));
    }

    @Override
    public int vocabSize() {
        return vocab.tokens().length;
    }

    @Override
    public String tokenText(int id) {
        return vocab.tokens()[id];
    }

    @Override
    public int tokenId(String token) {
        return allTokens.getOrDefault(token, -1);
    }

    @Override
    public int bosId() {
        return vocab.bosId();
    }

    @Override
    public int eosId() {
        return vocab.eosId();
    }
}
