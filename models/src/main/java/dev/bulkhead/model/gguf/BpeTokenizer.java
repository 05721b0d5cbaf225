package dev.bulkhead.model.gguf;

import dev.bulkhead.model.tokenizer.ByteLevelAlphabet;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Byte-level BPE over a GGUF "gpt2" vocabulary (GPT-2, Llama 3, Qwen): text is pre-split by the regex of
 * {@code tokenizer.ggml.pre}, each piece's UTF-8 bytes are mapped to GPT-2's printable characters, and
 * the lowest-ranked merge of {@code tokenizer.ggml.merges} is applied until none is left.
 *
 * <p>Approximations: only the gpt2, llama-bpe (llama3) and qwen2 pre-tokenizers are known; any other
 * {@code tokenizer.ggml.pre} uses the gpt2 regex (logged once per tokenizer). Java's regex engine with
 * {@code UNICODE_CHARACTER_CLASS} stands in for the Oniguruma/fancy-regex engines, which agree on ordinary
 * text but may differ on unusual Unicode categories. No Unicode normalization is applied (none of the
 * supported families normalizes).
 */
final class BpeTokenizer extends GgufTokenizer {

    private static final Logger LOG = LoggerFactory.getLogger(BpeTokenizer.class);

    private static final String GPT2 =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    private static final String LLAMA3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN2 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private final Pattern preSplit;
    /** llama3 tokenizers emit a whole pre-token when it is in the vocabulary, without merging. */
    private final boolean ignoreMerges;
    private final Map<String, Integer> ranks;
    private final Map<String, Integer> pieces;

    BpeTokenizer(GgufVocab vocab, String pre, String[] merges) {
        super(vocab);
        String regex = switch (pre) {
            case "llama-bpe", "llama3", "smaug-bpe" -> LLAMA3;
            case "qwen2" -> QWEN2;
            case "gpt2", "default" -> GPT2;
            default -> {
                LOG.warn("unknown tokenizer.ggml.pre '{}': pre-splitting with the gpt2 regex, "
                        + "token ids may differ from the model's own tokenizer", pre);
                yield GPT2;
            }
        };
        this.preSplit = Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
        this.ignoreMerges = regex.equals(LLAMA3);
        this.ranks = new HashMap<>(merges.length * 2);
        for (int i = 0; i < merges.length; i++) {
            ranks.putIfAbsent(merges[i], i);
        }
        this.pieces = vocab.index(t -> t == GgufVocab.NORMAL || t == GgufVocab.BYTE || t == GgufVocab.UNUSED);
    }

    /** llama.cpp adds BOS for Llama 3 style vocabularies and not for plain GPT-2 ones. */
    static boolean addsBosByDefault(String pre) {
        return pre.equals("llama-bpe") || pre.equals("llama3");
    }

    @Override
    void encodeText(String text, boolean afterSpecial, List<Integer> out) {
        Matcher m = preSplit.matcher(text);
        while (m.find()) {
            byte[] bytes = m.group().getBytes(StandardCharsets.UTF_8);
            StringBuilder mapped = new StringBuilder(bytes.length);
            for (byte b : bytes) {
                mapped.append(ByteLevelAlphabet.charOf(b & 0xFF));
            }
            String word = mapped.toString();
            Integer whole = ignoreMerges ? pieces.get(word) : null;
            if (whole != null) {
                out.add(whole);
            } else {
                for (String symbol : merge(word)) {
                    emit(symbol, out);
                }
            }
        }
    }

    /** Applies the lowest-ranked merge (leftmost first) until no adjacent pair has a rank. */
    private List<String> merge(String word) {
        List<String> symbols = new ArrayList<>(word.length());
        for (int i = 0; i < word.length(); i++) {
            symbols.add(String.valueOf(word.charAt(i)));
        }
        while (symbols.size() > 1) {
            int best = -1;
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer rank = ranks.get(symbols.get(i) + " " + symbols.get(i + 1));
                if (rank != null && rank < bestRank) {
                    bestRank = rank;
                    best = i;
                }
            }
            if (best < 0) {
                break;
            }
            String left = symbols.get(best);
            String right = symbols.get(best + 1);
            List<String> merged = new ArrayList<>(symbols.size());
            for (int i = 0; i < symbols.size(); i++) {
                if (i + 1 < symbols.size() && symbols.get(i).equals(left) && symbols.get(i + 1).equals(right)) {
                    merged.add(left + right);
                    i++;
                } else {
                    merged.add(symbols.get(i));
                }
            }
            symbols = merged;
        }
        return symbols;
    }

    private void emit(String symbol, List<Integer> out) {
        Integer id = pieces.get(symbol);
        if (id != null) {
            out.add(id);
            return;
        }
        // NOTE: a symbol without a token can only come from an incomplete vocabulary; fall back to its
        // single characters, then to <unk>, rather than dropping text silently.
        for (int i = 0; i < symbol.length(); i++) {
            Integer single = pieces.get(String.valueOf(symbol.charAt(i)));
            if (single != null) {
                out.add(single);
            } else if (vocab.unkId() >= 0) {
                out.add(vocab.unkId());
            }
        }
    }

    @Override
    void appendPiece(int id, ByteArrayOutputStream out) {
        String text = vocab.tokens()[id];
        for (int i = 0; i < text.length(); i++) {
            int b = ByteLevelAlphabet.byteOf(text.charAt(i));
            if (b >= 0) {
                out.write(b);
            } else {
                out.writeBytes(String.valueOf(text.charAt(i)).getBytes(StandardCharsets.UTF_8));
            }
        }
    }
}
