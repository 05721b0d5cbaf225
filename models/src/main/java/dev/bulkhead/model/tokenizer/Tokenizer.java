package dev.bulkhead.model.tokenizer;

/**
 * Text to token ids and back, for one model's vocabulary. Implementations: DJL HuggingFace tokenizers over
 * tokenizer.json, the vocabulary embedded in a GGUF file, llama2.c's tokenizer.bin.
 * Implementations are thread safe.
 */
public interface Tokenizer extends AutoCloseable {

    /**
     * Encodes {@code text}. With {@code addSpecialTokens} the model's usual prefix (BOS) is added the way the
     * tokenizer's own post-processor does it; without, only the text's own tokens come back.
     */
    int[] encode(String text, boolean addSpecialTokens);

    /** Decodes ids to text; special tokens (BOS, EOS, chat markers) are dropped when {@code skipSpecialTokens}. */
    String decode(int[] ids, boolean skipSpecialTokens);

    /** Number of ids this tokenizer can produce (may be smaller than the model's padded vocab_size). */
    int vocabSize();

    /** The vocabulary entry of one id as stored (e.g. {@code "▁the"}, {@code "<0x0A>"}), for debugging and logprobs. */
    String tokenText(int id);

    /** Id of {@code token} as stored in the vocabulary, or -1. */
    int tokenId(String token);

    /** Beginning-of-sequence id, or -1 when the vocabulary has none. */
    int bosId();

    /** End-of-sequence id, or -1. */
    int eosId();

    @Override
    default void close() {
    }
}
