package dev.bulkhead.engine.internal.guided;

import java.util.Arrays;

/**
 * Every token's bytes in one trie, flattened in preorder so a walk is a loop over arrays: node i has a byte
 * {@code label}, a {@code depth} (1 for a first byte), the end of its subtree (skip there when the automaton
 * rejects the node's byte, pruning every token that shares the prefix) and the token ids that end at it.
 * Built once per tokenizer; immutable, so shared by every request.
 */
public final class VocabularyTrie {

    private final byte[] label;        // (nodes)
    private final short[] depth;       // (nodes)
    private final int[] subtreeEnd;    // (nodes) first index past the node's subtree
    private final int[] tokensStart;   // (nodes + 1) tokens of node i are tokenIds[tokensStart[i], tokensStart[i + 1])
    private final int[] tokenIds;      // (tokens with bytes)
    private final boolean[] plainText; // (nodes) the node and its whole subtree are plain string bytes
    private final int maxDepth;

    private VocabularyTrie(byte[] label, short[] depth, int[] subtreeEnd, int[] tokensStart, int[] tokenIds,
                           int maxDepth) {
        this.label = label;
        this.depth = depth;
        this.subtreeEnd = subtreeEnd;
        this.tokensStart = tokensStart;
        this.tokenIds = tokenIds;
        this.maxDepth = maxDepth;
        this.plainText = plainText(label, subtreeEnd);
    }

    /** Marks subtrees whose every byte is printable ASCII other than quote and backslash. */
    private static boolean[] plainText(byte[] label, int[] subtreeEnd) {
        int n = label.length;
        int[] notPlainBefore = new int[n + 1]; // prefix counts of nodes whose byte is not plain
        for (int i = 0; i < n; i++) {
            notPlainBefore[i + 1] = notPlainBefore[i] + (isPlain(label[i] & 0xff) ? 0 : 1);
        }
        boolean[] plain = new boolean[n];
        for (int i = 0; i < n; i++) {
            plain[i] = notPlainBefore[subtreeEnd[i]] == notPlainBefore[i];
        }
        return plain;
    }

    private static boolean isPlain(int b) {
        return b >= 0x20 && b < 0x80 && b != '"' && b != '\\';
    }

    /** The trie of every token of {@code vocab} that has bytes (tokens longer than 32767 bytes are left out). */
    public static VocabularyTrie of(TokenVocabulary vocab) {
        Integer[] order = new Integer[vocab.size()];
        int n = 0;
        for (int id = 0; id < vocab.size(); id++) {
            byte[] b = vocab.bytes(id);
            if (b != null && b.length > 0 && b.length <= Short.MAX_VALUE) {
                order[n++] = id;
            }
        }
        Arrays.sort(order, 0, n, (x, y) -> Arrays.compareUnsigned(vocab.bytes(x), vocab.bytes(y)));
        int capacity = 0;
        int maxDepth = 0;
        for (int i = 0; i < n; i++) {
            capacity += vocab.bytes(order[i]).length;
            maxDepth = Math.max(maxDepth, vocab.bytes(order[i]).length);
        }
        byte[] label = new byte[capacity];
        short[] depth = new short[capacity];
        int[] subtreeEnd = new int[capacity];
        int[] tokensStart = new int[capacity + 1];
        int[] tokenIds = new int[n];
        int[] path = new int[maxDepth + 1]; // node index at each depth of the current string
        int nodes = 0;
        byte[] prev = new byte[0];
        for (int i = 0; i < n; i++) {
            byte[] b = vocab.bytes(order[i]);
            int common = Arrays.mismatch(prev, b);
            common = common < 0 ? b.length : common;
            for (int d = prev.length; d > common; d--) {
                subtreeEnd[path[d]] = nodes;
            }
            for (int d = common + 1; d <= b.length; d++) {
                label[nodes] = b[d - 1];
                depth[nodes] = (short) d;
                tokensStart[nodes] = i; // tokens arrive in preorder, so node k's ids start where k was made
                path[d] = nodes++;
            }
            tokenIds[i] = order[i];
            prev = b;
        }
        for (int d = prev.length; d > 0; d--) {
            subtreeEnd[path[d]] = nodes;
        }
        tokensStart[nodes] = n;
        return new VocabularyTrie(Arrays.copyOf(label, nodes), Arrays.copyOf(depth, nodes),
                Arrays.copyOf(subtreeEnd, nodes), Arrays.copyOf(tokensStart, nodes + 1), tokenIds, maxDepth);
    }

    int nodes() {
        return label.length;
    }

    int label(int node) {
        return label[node] & 0xff;
    }

    int depth(int node) {
        return depth[node];
    }

    int subtreeEnd(int node) {
        return subtreeEnd[node];
    }

    int tokensStart(int node) {
        return tokensStart[node];
    }

    /**
     * True when node {@code node} and everything under it are plain string bytes (printable ASCII but quote
     * and backslash): inside an open string every token there is accepted and changes nothing.
     */
    boolean plainText(int node) {
        return plainText[node];
    }

    int tokenId(int index) {
        return tokenIds[index];
    }

    /** Length in bytes of the longest token. */
    int maxDepth() {
        return maxDepth;
    }
}
