package dev.bulkhead.model.llama2c;

import dev.bulkhead.model.ModelFormatException;
import java.nio.file.Path;

/**
 * The legacy (version 0) llama2.c checkpoint header: seven little-endian int32 values, then float32 weights.
 *
 * @param dim              model width
 * @param hiddenDim        FFN width
 * @param numLayers        decoder blocks
 * @param numHeads         query heads
 * @param numKvHeads       key/value heads
 * @param vocabSize        vocabulary size (the file stores it negated when the classifier is not shared)
 * @param seqLen           maximum sequence length
 * @param sharedClassifier whether the LM head reuses the token embedding (positive vocab_size in the file)
 */
public record Llama2cHeader(int dim, int hiddenDim, int numLayers, int numHeads, int numKvHeads, int vocabSize,
                            int seqLen, boolean sharedClassifier) {

    /** Bytes of the header. */
    public static final int BYTES = 7 * Integer.BYTES;

    /** First uint32 of llama2.c's newer versioned exports ("ak42"), which this reader does not support. */
    static final int VERSIONED_MAGIC = 0x616b3432;

    // NOTE: generous bounds that no real llama2.c model comes near; past them the header is garbage, and
    // checking early turns an overflow or a huge bogus size into a message naming the field.
    static final int MAX_DIM = 1 << 16;
    static final int MAX_HIDDEN = 1 << 18;
    static final int MAX_LAYERS = 1024;
    static final int MAX_VOCAB = 1 << 22;
    static final int MAX_SEQ_LEN = 1 << 22;

    public Llama2cHeader {
        bounded("dim", dim, MAX_DIM);
        bounded("hidden_dim", hiddenDim, MAX_HIDDEN);
        bounded("n_layers", numLayers, MAX_LAYERS);
        bounded("n_heads", numHeads, dim);
        bounded("n_kv_heads", numKvHeads, numHeads);
        bounded("vocab_size", vocabSize, MAX_VOCAB);
        bounded("seq_len", seqLen, MAX_SEQ_LEN);
        if (dim % numHeads != 0 || (dim / numHeads) % 2 != 0) {
            throw new IllegalArgumentException("dim " + dim + " must split into n_heads " + numHeads
                    + " heads of even size");
        }
        if (numHeads % numKvHeads != 0) {
            throw new IllegalArgumentException("n_heads " + numHeads + " must be a multiple of n_kv_heads "
                    + numKvHeads);
        }
    }

    private static void bounded(String field, int value, int max) {
        if (value <= 0 || value > max) {
            throw new IllegalArgumentException("header field " + field + " = " + value + " is outside [1, " + max + "]");
        }
    }

    /** Validates raw header values as read from {@code file}; a negative vocab size means an unshared classifier. */
    static Llama2cHeader parse(Path file, int[] raw) {
        if (raw[0] == VERSIONED_MAGIC) {
            throw new ModelFormatException(file, "is a versioned llama2.c export (magic 'ak42', version " + raw[1]
                    + "); only the legacy header (7 int32 values) is supported: export with --version 0");
        }
        int vocab = raw[5] == Integer.MIN_VALUE ? 0 : Math.abs(raw[5]);
        try {
            return new Llama2cHeader(raw[0], raw[1], raw[2], raw[3], raw[4], vocab, raw[6], raw[5] > 0);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, e.getMessage() + " (not a legacy llama2.c checkpoint?)", e);
        }
    }

    /** Width of one attention head. */
    public int headSize() {
        return dim / numHeads;
    }

    /** Width of all key (or value) heads together. */
    public int kvDim() {
        return headSize() * numKvHeads;
    }

    /** Float count of the weights in run.c order, including the unused RoPE tables. */
    public long floatCount() {
        long d = dim;
        long perLayer = d                       // rms_att_weight
                + d * d                         // wq
                + 2 * d * kvDim()               // wk, wv
                + d * d                         // wo
                + d                             // rms_ffn_weight
                + 3 * d * hiddenDim;            // w1, w2, w3
        return (long) vocabSize * d             // token_embedding_table
                + numLayers * perLayer
                + d                             // rms_final_weight
                + (long) seqLen * headSize()    // freq_cis_real and freq_cis_imag, seq_len * head_size / 2 each
                + (sharedClassifier ? 0 : (long) vocabSize * d);
    }

    /** Exact size of a file with this header. */
    public long fileSize() {
        return BYTES + Float.BYTES * floatCount();
    }
}
