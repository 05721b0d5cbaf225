package dev.bulkhead.model.gguf;

import dev.bulkhead.model.ModelFormatException;
import dev.bulkhead.model.tokenizer.Tokenizer;

/** Builds the {@link Tokenizer} embedded in a GGUF file's {@code tokenizer.ggml.*} metadata. */
public final class GgufTokenizers {

    private GgufTokenizers() {
    }

    /**
     * The tokenizer of {@code file}'s {@code tokenizer.ggml.*} metadata.
     *
     * @throws ModelFormatException when the tokenizer model is not "llama" or "gpt2" or the vocabulary is
     *                              malformed
     */
    public static Tokenizer from(GgufFile file) {
        String model = file.metadata().getString("tokenizer.ggml.model").orElse("");
        return switch (model) {
            case "llama" -> new SpmTokenizer(GgufVocab.read(file, true));
            case "gpt2" -> {
                String pre = file.metadata().getString("tokenizer.ggml.pre").orElse("default");
                yield new BpeTokenizer(GgufVocab.read(file, BpeTokenizer.addsBosByDefault(pre)), pre,
                        file.metadata().getStringArray("tokenizer.ggml.merges").orElseThrow(
                                () -> new ModelFormatException(file.path(), "missing tokenizer.ggml.merges")));
            }
            default -> throw new ModelFormatException(file.path(), "unsupported tokenizer model '" + model
                    + "' in tokenizer.ggml.model (supported: llama, gpt2)");
        };
    }
}
