package dev.bulkhead.engine.internal.guided;

/**
 * Finds every token whose bytes an automaton accepts from a given state, by walking the vocabulary trie
 * depth first: a shared prefix is fed to the automaton once, and a rejected byte skips every token under it.
 * Keeps one automaton per byte depth as scratch, so a walk allocates nothing. While a string is open, plain
 * ASCII text neither changes the state nor can be rejected, so such bytes share their parent's state and
 * whole subtrees of plain text are accepted without being walked (most of a vocabulary, in a string).
 * Not thread safe.
 */
final class TokenMasker {

    private final VocabularyTrie trie;
    private final JsonAutomaton[] levels; // (maxDepth + 1) scratch states, one per byte depth
    private final int[] at;               // (maxDepth + 1) which level holds the state after d bytes of the path

    TokenMasker(VocabularyTrie trie, JsonGrammar grammar) {
        this.trie = trie;
        this.levels = new JsonAutomaton[trie.maxDepth() + 1];
        this.at = new int[trie.maxDepth() + 1];
        for (int d = 0; d < levels.length; d++) {
            levels[d] = new JsonAutomaton(grammar);
        }
    }

    /** Sets, in {@code mask} (bit i of word i / 64 for id i), the bit of every token accepted from {@code state}. */
    void addAccepted(JsonAutomaton state, long[] mask) {
        levels[0].copyFrom(state);
        at[0] = 0;
        int n = trie.nodes();
        int i = 0;
        while (i < n) {
            int d = trie.depth(i);
            JsonAutomaton parent = levels[at[d - 1]];
            int b = trie.label(i);
            boolean accepted;
            if (trie.plainText(i) && parent.keepsStateOn(b)) {
                // NOTE: the whole subtree is text an open string takes as is: accept all of it at once.
                int end = trie.subtreeEnd(i);
                mark(trie.tokensStart(i), trie.tokensStart(end), mask);
                i = end;
                continue;
            }
            if (parent.keepsStateOn(b)) {
                // NOTE: inside a string most bytes change nothing: share the parent's state, skip copy and step.
                at[d] = at[d - 1];
                accepted = true;
            } else {
                JsonAutomaton a = levels[d];
                a.copyFrom(parent);
                at[d] = d;
                accepted = a.advance(b);
            }
            if (accepted) {
                mark(trie.tokensStart(i), trie.tokensStart(i + 1), mask);
                i++;
            } else {
                i = trie.subtreeEnd(i);
            }
        }
    }

    /** Sets the bits of the trie's token ids in [from, to). */
    private void mark(int from, int to, long[] mask) {
        for (int t = from; t < to; t++) {
            int id = trie.tokenId(t);
            mask[id >>> 6] |= 1L << id;
        }
    }
}
