package dev.bulkhead.model.arch;

import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.config.ModelFamily;

/** Qwen2: the shared block with a bias on the q, k and v projections (always, whatever config.json says). */
public final class Qwen2Architecture extends DecoderArchitecture {

    @Override
    public ModelFamily family() {
        return ModelFamily.QWEN2;
    }

    @Override
    protected boolean qkvBias(ModelConfig config) {
        return true;
    }
}
