package dev.bulkhead.model.arch;

import dev.bulkhead.model.config.ModelFamily;

/** Mistral: the shared decoder block as is (its sliding window lives in the config and the attention kernel). */
public final class MistralArchitecture extends DecoderArchitecture {

    @Override
    public ModelFamily family() {
        return ModelFamily.MISTRAL;
    }
}
