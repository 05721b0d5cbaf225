package dev.bulkhead.engine.internal.guided;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guided decoding of one request: which tokens may come next so that the output stays a prefix of a
 * document of its grammar, and the automaton advanced by each token the request produces. Terminal tokens
 * (EOS, stop token ids) are allowed exactly when the document is complete, and once it is complete nothing
 * else is (but the digits of a top-level number that could still grow).
 *
 * <p>The state is a function of the tokens accepted so far, and the request keeps its guide across
 * preemption (recompute re-runs the model, not the sampler), so no rebuild is needed. Masks are cached per
 * automaton state: inside a long string, or between the members of an object, states repeat and a step
 * costs a lookup. Not thread safe: one per request, used by the engine thread.
 */
public final class JsonGuide {

    private static final Logger LOG = LoggerFactory.getLogger(JsonGuide.class);
    /** Masks kept per request; each is vocabSize / 8 bytes (16 KiB for 128k tokens). */
    static final int CACHED_MASKS = 16;

    private final TokenVocabulary vocab;
    private final TokenMasker masker;
    private final JsonAutomaton automaton;
    private final int[] terminalIds;
    private final long[] terminalMask;
    private final int words;
    private final Map<StateKey, long[]> cache = new LinkedHashMap<>(CACHED_MASKS * 2, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<StateKey, long[]> eldest) {
            return size() > CACHED_MASKS;
        }
    };
    private boolean broken;

    /**
     * @param vocabSize   ids the mask covers (the model's vocab_size; ids past the tokenizer's are never allowed)
     * @param terminalIds ids that end the request (EOS, stop token ids)
     */
    JsonGuide(JsonGrammar grammar, TokenVocabulary vocab, VocabularyTrie trie, int vocabSize, int[] terminalIds) {
        this.vocab = vocab;
        this.masker = new TokenMasker(trie, grammar);
        this.automaton = new JsonAutomaton(grammar);
        this.terminalIds = terminalIds.clone();
        this.words = (Math.max(vocabSize, vocab.size()) + 63) >>> 6;
        this.terminalMask = new long[words];
        for (int id : terminalIds) {
            if (id >= 0 && id < words * 64) {
                terminalMask[id >>> 6] |= 1L << id;
            }
        }
    }

    /**
     * The ids allowed next, as a bitmask (bit {@code id % 64} of word {@code id / 64}). Never empty: should
     * the vocabulary have no way to continue, the terminal ids are allowed and a warning is logged. The array
     * is shared: read it before the next {@link #accept}, never write it.
     */
    public long[] allowedTokens() {
        if (broken) {
            return terminalMask;
        }
        StateKey probe = new StateKey(automaton, automaton.stateHash());
        long[] mask = cache.get(probe);
        if (mask == null) {
            mask = compute();
            cache.put(new StateKey(automaton.copy(), probe.hash()), mask);
        }
        return mask;
    }

    private long[] compute() {
        long[] mask = new long[words];
        masker.addAccepted(automaton, mask);
        boolean any = false;
        for (long w : mask) {
            any |= w != 0;
        }
        if (automaton.isComplete() || !any) {
            if (!any && !automaton.isComplete()) {
                LOG.warn("guided decoding: no token of the vocabulary can continue the JSON here; allowing only "
                        + "the end of the sequence");
            }
            for (int i = 0; i < words; i++) {
                mask[i] |= terminalMask[i];
            }
        }
        return mask;
    }

    /** Advances past a produced token. A token the mask did not allow ends guidance: only terminals follow. */
    public void accept(int tokenId) {
        if (broken || isTerminal(tokenId)) {
            return;
        }
        byte[] bytes = vocab.bytes(tokenId);
        if (bytes == null || !automaton.advance(bytes)) {
            LOG.warn("guided decoding: token {} was produced but the JSON grammar does not allow it here; only the "
                    + "end of the sequence is allowed from now on", tokenId);
            broken = true;
        }
    }

    /** True when the tokens accepted so far form a complete document. */
    public boolean isComplete() {
        return !broken && automaton.isComplete();
    }

    private boolean isTerminal(int tokenId) {
        for (int id : terminalIds) {
            if (id == tokenId) {
                return true;
            }
        }
        return false;
    }

    /** An automaton state as a map key; the stored keys hold their own copy. */
    private record StateKey(JsonAutomaton state, int hash) {
        @Override
        public boolean equals(Object o) {
            return o instanceof StateKey k && hash == k.hash && state.sameState(k.state);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public String toString() {
            return "StateKey[" + hash + "]";
        }
    }

    @Override
    public String toString() {
        return "JsonGuide[complete=" + isComplete() + ", broken=" + broken + ", terminals="
                + Arrays.toString(terminalIds) + "]";
    }
}
