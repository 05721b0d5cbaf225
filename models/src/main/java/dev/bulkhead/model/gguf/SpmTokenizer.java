package dev.bulkhead.model.gguf;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * SentencePiece-style BPE over a GGUF "llama" vocabulary, as llama.cpp's SPM tokenizer does it: spaces
 * become "▁" (with a "▁" prefix at the start and after special tokens when {@code add_space_prefix}),
 * text is split into characters, the adjacent pair whose merged piece has the highest score is merged
 * (leftmost on ties) until no pair is in the vocabulary, and characters outside the vocabulary fall back
 * to their UTF-8 bytes as {@code <0xXX>} tokens.
 */
final class SpmTokenizer extends GgufTokenizer {

    private static final char SPACE_MARK = '\u2581';

    /** Pieces merges may produce (normal and user-defined tokens). */
    private final Map<String, Integer> pieces;
    /** Byte value → id of its {@code <0xXX>} token, -1 when missing. */
    private final int[] byteTokens = new int[256];
    /** Id → byte value for byte tokens, -1 otherwise. */
    private final int[] byteOfToken;

    SpmTokenizer(GgufVocab vocab) {
        super(vocab);
        this.pieces = vocab.index(t -> t == GgufVocab.NORMAL || t == GgufVocab.USER_DEFINED);
        this.byteOfToken = new int[vocab.tokens().length];
        Arrays.fill(byteTokens, -1);
        Arrays.fill(byteOfToken, -1);
        for (int id = 0; id < vocab.tokens().length; id++) {
            int b = parseByteToken(vocab.tokens()[id]);
            if (b >= 0 && (vocab.types()[id] == GgufVocab.BYTE || vocab.types()[id] == GgufVocab.NORMAL)) {
                byteOfToken[id] = b;
                if (byteTokens[b] < 0) {
                    byteTokens[b] = id;
                }
            }
        }
    }

    /** The byte of a {@code <0xXX>} token text, or -1. */
    private static int parseByteToken(String text) {
        if (text.length() != 6 || !text.startsWith("<0x") || text.charAt(5) != '>') {
            return -1;
        }
        try {
            return Integer.parseInt(text.substring(3, 5), 16);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** A candidate merge of symbols {@code left} and {@code right}; the queue pops the best first. */
    private record Bigram(int left, int right, float score, int length) {
    }

    @Override
    void encodeText(String fragment, boolean afterSpecial, List<Integer> out) {
        String text = (vocab.addSpacePrefix() && afterSpecial ? " " + fragment : fragment).replace(' ', SPACE_MARK);
        int n = text.codePointCount(0, text.length());
        // Symbols as a linked list over char ranges of text: start, length, prev, next.
        int[] start = new int[n];
        int[] len = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0, pos = 0; i < n; i++) {
            int cp = text.codePointAt(pos);
            start[i] = pos;
            len[i] = Character.charCount(cp);
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
            pos += len[i];
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> a.score != b.score
                ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 0; i + 1 < n; i++) {
            offer(queue, text, start, len, i, i + 1);
        }
        while (!queue.isEmpty()) {
            Bigram b = queue.poll();
            // NOTE: stale entries (a side already merged away or grown) are skipped, as in llama.cpp.
            if (len[b.left] == 0 || len[b.right] == 0 || len[b.left] + len[b.right] != b.length) {
                continue;
            }
            len[b.left] += len[b.right];
            len[b.right] = 0;
            next[b.left] = next[b.right];
            if (next[b.right] >= 0) {
                prev[next[b.right]] = b.left;
            }
            if (prev[b.left] >= 0) {
                offer(queue, text, start, len, prev[b.left], b.left);
            }
            if (next[b.left] >= 0) {
                offer(queue, text, start, len, b.left, next[b.left]);
            }
        }
        for (int i = 0; i >= 0 && n > 0; i = next[i]) {
            emit(text.substring(start[i], start[i] + len[i]), out);
        }
    }

    private void offer(PriorityQueue<Bigram> queue, String text, int[] start, int[] len, int left, int right) {
        int length = len[left] + len[right];
        Integer id = pieces.get(text.substring(start[left], start[left] + length));
        if (id != null) {
            queue.add(new Bigram(left, right, vocab.scores()[id], length));
        }
    }

    private void emit(String symbol, List<Integer> out) {
        Integer id = pieces.get(symbol);
        if (id != null) {
            out.add(id);
            return;
        }
        byte[] bytes = symbol.getBytes(StandardCharsets.UTF_8);
        for (byte b : bytes) {
            if (byteTokens[b & 0xFF] < 0) {
                // NOTE: without byte fallback sentencepiece maps the unknown character to one <unk>.
                if (vocab.unkId() >= 0) {
                    out.add(vocab.unkId());
                }
                return;
            }
        }
        for (byte b : bytes) {
            out.add(byteTokens[b & 0xFF]);
        }
    }

    @Override
    void appendPiece(int id, ByteArrayOutputStream out) {
        if (byteOfToken[id] >= 0) {
            out.write(byteOfToken[id]);
        } else {
            out.writeBytes(vocab.tokens()[id].replace(SPACE_MARK, ' ').getBytes(StandardCharsets.UTF_8));
        }
    }

    @Override
    String finishDecode(String text) {
        // NOTE: like sentencepiece (and HF's Strip decoder) drop the one space the encoder prefixed.
        return vocab.addSpacePrefix() && text.startsWith(" ") ? text.substring(1) : text;
    }
}
