package dev.bulkhead.model.arch;

import dev.bulkhead.model.config.ModelFamily;

/** Llama: the shared decoder block as is (Llama 2, 3, 3.1, 3.2; RoPE scaling and tied embeddings come from the config). */
public final class LlamaArchitecture extends DecoderArchitecture {

    @Override
    public ModelFamily family() {
        return ModelFamily.LLAMA;
    }
}
