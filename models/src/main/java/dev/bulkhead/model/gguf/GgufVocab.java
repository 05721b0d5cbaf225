package dev.bulkhead.model.gguf;

import dev.bulkhead.model.ModelFormatException;
import java.util.HashMap;
import java.util.Map;
import java.util.function.IntPredicate;

/**
 * The {@code tokenizer.ggml.*} vocabulary of a GGUF file.
 *
 * @param model          {@code tokenizer.ggml.model} ("llama" or "gpt2")
 * @param tokens         token texts by id
 * @param scores         SentencePiece scores by id (zeros when absent)
 * @param types          llama.cpp token types by id ({@link #NORMAL} when absent)
 * @param bosId          beginning-of-sequence id or -1
 * @param eosId          end-of-sequence id or -1
 * @param unkId          unknown-token id or -1
 * @param addBos         whether {@code encode(text, true)} prepends BOS
 * @param addEos         whether {@code encode(text, true)} appends EOS
 * @param addSpacePrefix whether SentencePiece text gets a leading space
 */
record GgufVocab(String model, String[] tokens, float[] scores, int[] types, int bosId, int eosId, int unkId,
                 boolean addBos, boolean addEos, boolean addSpacePrefix) {

    static final int NORMAL = 1;
    static final int UNKNOWN = 2;
    static final int CONTROL = 3;
    static final int USER_DEFINED = 4;
    static final int UNUSED = 5;
    static final int BYTE = 6;

    static GgufVocab read(GgufFile file, boolean addBosDefault) {
        GgufMetadata m = file.metadata();
        String model = m.getString("tokenizer.ggml.model")
                .orElseThrow(() -> new ModelFormatException(file.path(), "missing metadata tokenizer.ggml.model"));
        String[] tokens = m.getStringArray("tokenizer.ggml.tokens").orElseThrow(
                () -> new ModelFormatException(file.path(), "missing metadata tokenizer.ggml.tokens (string array)"));
        float[] scores = m.getFloatArray("tokenizer.ggml.scores").orElse(new float[tokens.length]);
        long[] rawTypes = m.getLongArray("tokenizer.ggml.token_type").orElse(null);
        if (scores.length != tokens.length || (rawTypes != null && rawTypes.length != tokens.length)) {
            throw new ModelFormatException(file.path(), "tokenizer.ggml.scores/token_type lengths ("
                    + scores.length + "/" + (rawTypes == null ? "absent" : rawTypes.length)
                    + ") differ from tokenizer.ggml.tokens (" + tokens.length + ")");
        }
        int[] types = new int[tokens.length];
        for (int i = 0; i < types.length; i++) {
            types[i] = rawTypes == null ? NORMAL : (int) rawTypes[i];
        }
        return new GgufVocab(model, tokens, scores, types, id(file, "bos", tokens.length),
                id(file, "eos", tokens.length), id(file, "unknown", tokens.length),
                m.getBoolean("tokenizer.ggml.add_bos_token").orElse(addBosDefault),
                m.getBoolean("tokenizer.ggml.add_eos_token").orElse(false),
                m.getBoolean("tokenizer.ggml.add_space_prefix").orElse(model.equals("llama")));
    }

    private static int id(GgufFile file, String kind, int vocabSize) {
        String key = "tokenizer.ggml." + kind + "_token_id";
        long id = file.metadata().getLong(key).orElse(-1);
        if (id < -1 || id >= vocabSize) {
            throw new ModelFormatException(file.path(), key + " " + id + " is outside the vocabulary of " + vocabSize);
        }
        return (int) id;
    }

    /** Text → id for the tokens whose type passes {@code filter}; the first id wins on duplicates. */
    Map<String, Integer> index(IntPredicate typeFilter) {
        Map<String, Integer> map = new HashMap<>();
        for (int i = 0; i < tokens.length; i++) {
            if (typeFilter.test(types[i])) {
                map.putIfAbsent(tokens[i], i);
            }
        }
        return map;
    }

    boolean isSpecial(int id) {
        return types[id] == CONTROL || types[id] == UNKNOWN || types[id] == USER_DEFINED;
    }
}
