package dev.bulkhead.engine.internal.guided;

import dev.bulkhead.engine.api.GuidedDecoding;
import dev.bulkhead.model.tokenizer.Tokenizer;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Makes the {@link JsonGuide} of each guided request of one engine. The tokenizer's byte vocabulary and its
 * trie are built on the first guided request (one decode per token), on that request's own thread, and
 * shared by every later one; engines that never see one pay nothing. Thread safe.
 */
public final class JsonGuideFactory {

    private final Supplier<TokenVocabulary> vocabulary;
    private final int vocabSize;
    private TokenVocabulary vocab;   // guarded by this
    private VocabularyTrie trie;     // guarded by this

    /**
     * @param vocabulary builds the vocabulary, called once, on first use
     * @param vocabSize  the model's vocab_size (the width of a row of logits)
     */
    public JsonGuideFactory(Supplier<TokenVocabulary> vocabulary, int vocabSize) {
        this.vocabulary = Objects.requireNonNull(vocabulary, "vocabulary");
        this.vocabSize = vocabSize;
    }

    /** A factory over {@code tokenizer}'s vocabulary. */
    public static JsonGuideFactory of(Tokenizer tokenizer, int vocabSize) {
        Objects.requireNonNull(tokenizer, "tokenizer");
        return new JsonGuideFactory(() -> TokenVocabulary.of(tokenizer), vocabSize);
    }

    /**
     * A new guide for one request.
     *
     * @param terminalIds the ids that end it (the model's EOS ids and the request's stop token ids)
     */
    public JsonGuide create(GuidedDecoding spec, int[] terminalIds) {
        JsonGrammar grammar = spec.grammar();
        synchronized (this) {
            if (trie == null) {
                vocab = vocabulary.get();
                trie = VocabularyTrie.of(vocab);
            }
            return new JsonGuide(grammar, vocab, trie, vocabSize, terminalIds);
        }
    }
}
