package dev.bulkhead.model.llama2c;

import dev.bulkhead.model.ModelFormatException;
import dev.bulkhead.model.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * llama2.c's {@code tokenizer.bin}: int32 {@code max_token_length}, then per token a float32 score, an int32
 * byte length and the UTF-8 bytes of the piece (SentencePiece's {@code ▁} stored as a space). Encodes like
 * run.c's {@code encode} (dummy-prefix space, one symbol per code point with {@code <0xXX>} byte fallback, then
 * greedy merging of the adjacent pair whose merge has the best score, leftmost on ties) and decodes like run.c's
 * {@code decode} (raw byte pieces, the leading space of the first piece after BOS or at the start dropped, as
 * SentencePiece drops its dummy prefix). BOS is 1 and EOS is 2, hard-coded as in run.c. Immutable, so thread safe.
 */
public final class Llama2cTokenizer implements Tokenizer {

    static final int UNK = 0;
    static final int BOS = 1;
    static final int EOS = 2;

    private final String[] pieces;
    private final float[] scores;
    private final Map<String, Integer> ids;
    private final int[] byteIds;
    private final int maxTokenLength;

    private Llama2cTokenizer(String[] pieces, float[] scores, int maxTokenLength) {
        this.pieces = pieces;
        this.scores = scores;
        this.maxTokenLength = maxTokenLength;
        this.ids = new HashMap<>(pieces.length * 2);
        for (int i = pieces.length - 1; i >= 0; i--) {
            ids.put(pieces[i], i); // NOTE: backwards, so a duplicated piece maps to its lowest id
        }
        this.byteIds = new int[256];
        for (int b = 0; b < 256; b++) {
            byteIds[b] = ids.getOrDefault(String.format("<0x%02X>", b), UNK);
        }
    }

    /** Reads every token of {@code tokenizerBin} (the file does not store the count; it ends at EOF). */
    public static Llama2cTokenizer load(Path tokenizerBin) {
        return read(tokenizerBin, -1);
    }

    /** Reads exactly {@code vocabSize} tokens, as run.c does with the model's vocab_size; the file must end there. */
    public static Llama2cTokenizer load(Path tokenizerBin, int vocabSize) {
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("vocabSize must be > 0, got " + vocabSize);
        }
        return read(tokenizerBin, vocabSize);
    }

    private static Llama2cTokenizer read(Path file, int expected) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot read: " + e.getMessage(), e);
        }
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (in.remaining() < Integer.BYTES) {
            throw new ModelFormatException(file, "truncated: " + bytes.length + " bytes, no max_token_length");
        }
        int maxLen = in.getInt();
        if (maxLen <= 0 || maxLen > 1 << 16) {
            throw new ModelFormatException(file, "max_token_length " + maxLen + " is outside [1, 65536]"
                    + " (not a llama2.c tokenizer.bin?)");
        }
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        String[] pieces = new String[Math.max(16, expected)];
        float[] scores = new float[pieces.length];
        int n = 0;
        while (expected < 0 ? in.hasRemaining() : n < expected) {
            if (in.remaining() < 2 * Integer.BYTES) {
                throw new ModelFormatException(file, "truncated in the header of token " + n);
            }
            float score = in.getFloat();
            int len = in.getInt();
            if (len < 0 || len > in.remaining()) {
                throw new ModelFormatException(file, "token " + n + " has length " + len + " but only "
                        + in.remaining() + " bytes remain");
            }
            ByteBuffer piece = in.slice(in.position(), len);
            in.position(in.position() + len);
            if (n == pieces.length) {
                pieces = Arrays.copyOf(pieces, n * 2);
                scores = Arrays.copyOf(scores, n * 2);
            }
            try {
                pieces[n] = decoder.decode(piece).toString();
            } catch (CharacterCodingException e) {
                throw new ModelFormatException(file, "token " + n + " is not valid UTF-8", e);
            }
            scores[n++] = score;
        }
        if (in.hasRemaining()) {
            throw new ModelFormatException(file, in.remaining() + " bytes of trailing data after " + n + " tokens");
        }
        if (n <= EOS) {
            throw new ModelFormatException(file, "has " + n + " tokens; needs at least <unk>, <s>, </s>");
        }
        return new Llama2cTokenizer(Arrays.copyOf(pieces, n), Arrays.copyOf(scores, n), maxLen);
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        int[] symbols = initialSymbols(text);
        int[] merged = BpeMerger.merge(symbols, this::mergeOf);
        if (!addSpecialTokens) {
            return merged;
        }
        int[] out = new int[merged.length + 1];
        out[0] = BOS;
        System.arraycopy(merged, 0, out, 1, merged.length);
        return out;
    }

    /** The dummy-prefix space (when text is non-empty), then one piece per code point or its UTF-8 bytes. */
    private int[] initialSymbols(String text) {
        if (text.isEmpty()) {
            return new int[0];
        }
        String withPrefix = " " + text;
        int[] out = new int[withPrefix.length() * 4];
        int n = 0;
        for (int i = 0; i < withPrefix.length(); ) {
            int cp = withPrefix.codePointAt(i);
            int next = i + Character.charCount(cp);
            String ch = withPrefix.substring(i, next);
            Integer id = ids.get(ch);
            if (id != null) {
                out[n++] = id;
            } else {
                for (byte b : ch.getBytes(StandardCharsets.UTF_8)) {
                    out[n++] = byteIds[b & 0xFF];
                }
            }
            i = next;
        }
        return Arrays.copyOf(out, n);
    }

    /** The id of the piece {@code left + right} and its score, or null when the vocabulary lacks it. */
    private BpeMerger.Merge mergeOf(int left, int right) {
        Integer id = ids.get(pieces[left] + pieces[right]);
        return id == null ? null : new BpeMerger.Merge(id, scores[id]);
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(ids.length * 4);
        boolean atStart = true;
        for (int id : ids) {
            checkId(id);
            if (isSpecial(id)) {
                if (!skipSpecialTokens) {
                    out.writeBytes(pieces[id].strip().getBytes(StandardCharsets.UTF_8));
                }
                atStart = id == BOS;
                continue;
            }
            String piece = pieces[id];
            if (atStart && piece.startsWith(" ")) {
                piece = piece.substring(1);
            }
            atStart = false;
            int raw = rawByte(piece);
            if (raw >= 0) {
                out.write(raw);
            } else {
                out.writeBytes(piece.getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private boolean isSpecial(int id) {
        return id == UNK || id == BOS || id == EOS;
    }

    /** The byte of a {@code <0xXX>} piece, or -1. */
    private static int rawByte(String piece) {
        if (piece.length() == 6 && piece.startsWith("<0x") && piece.endsWith(">")) {
            int hi = Character.digit(piece.charAt(3), 16);
            int lo = Character.digit(piece.charAt(4), 16);
            if (hi >= 0 && lo >= 0) {
                return hi * 16 + lo;
            }
        }
        return -1;
    }

    private void checkId(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new IllegalArgumentException("token id " + id + " is outside [0, " + pieces.length + ")");
        }
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    /** The piece as stored in tokenizer.bin (a space where SentencePiece has {@code ▁}). */
    @Override
    public String tokenText(int id) {
        checkId(id);
        return pieces[id];
    }

    @Override
    public int tokenId(String token) {
        return ids.getOrDefault(token, -1);
    }

    /** The merge score of a token (SentencePiece's log probability). */
    public float score(int id) {
        checkId(id);
        return scores[id];
    }

    /** {@code max_token_length} from the file header. */
    public int maxTokenLength() {
        return maxTokenLength;
    }

    @Override
    public int bosId() {
        return BOS;
    }

    @Override
    public int eosId() {
        return EOS;
    }

    /** Greedy best-score pair merging over a linked list with a priority queue; same result as run.c's O(n²) loop. */
    static final class BpeMerger {

        /** A possible merge: the merged id and its score. */
        record Merge(int id, float score) {
        }

        /** Looks up the merge of two adjacent ids. */
        @FunctionalInterface
        interface Lookup {
            Merge of(int left, int right);
        }

        private record Candidate(int left, int right, int leftVersion, int rightVersion, Merge merge) {
        }

        private BpeMerger() {
        }

        /**
         * Repeatedly merges the adjacent pair with the highest score, the leftmost among equal scores (run.c
         * accepts only a strictly better score while scanning left to right), until no pair merges.
         */
        static int[] merge(int[] symbols, Lookup lookup) {
            int n = symbols.length;
            if (n < 2) {
                return symbols.clone();
            }
            int[] id = symbols.clone();
            int[] prev = new int[n];
            int[] next = new int[n];
            int[] version = new int[n];
            boolean[] dead = new boolean[n];
            for (int i = 0; i < n; i++) {
                prev[i] = i - 1;
                next[i] = i + 1 < n ? i + 1 : -1;
            }
            // NOTE: positions keep their original index, and merging never reorders them, so ordering ties
            // by the left index is the same as run.c's leftmost-in-the-current-sequence rule.
            PriorityQueue<Candidate> queue = new PriorityQueue<>((a, b) -> {
                int byScore = Float.compare(b.merge().score(), a.merge().score());
                return byScore != 0 ? byScore : Integer.compare(a.left(), b.left());
            });
            for (int i = 0; i + 1 < n; i++) {
                offer(queue, lookup, id, version, i, i + 1);
            }
            while (!queue.isEmpty()) {
                Candidate c = queue.poll();
                if (dead[c.left()] || dead[c.right()] || next[c.left()] != c.right()
                        || version[c.left()] != c.leftVersion() || version[c.right()] != c.rightVersion()) {
                    continue;
                }
                int l = c.left();
                int r = c.right();
                id[l] = c.merge().id();
                version[l]++;
                dead[r] = true;
                next[l] = next[r];
                if (next[r] >= 0) {
                    prev[next[r]] = l;
                }
                if (prev[l] >= 0) {
                    offer(queue, lookup, id, version, prev[l], l);
                }
                if (next[l] >= 0) {
                    offer(queue, lookup, id, version, l, next[l]);
                }
            }
            int[] out = new int[n];
            int m = 0;
            for (int i = 0; i >= 0; i = next[i]) {
                out[m++] = id[i];
            }
            return Arrays.copyOf(out, m);
        }

        private static void offer(PriorityQueue<Candidate> queue, Lookup lookup, int[] id, int[] version,
                                  int left, int right) {
            Merge m = lookup.of(id[left], id[right]);
            if (m != null) {
                queue.add(new Candidate(left, right, version[left], version[right], m));
            }
        }
    }
}
