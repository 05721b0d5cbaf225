package dev.bulkhead.model.arch;

import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.config.ModelFamily;

/** Qwen3: the shared block with a per-head RMSNorm on q and k before RoPE; head_dim is independent of hidden. */
public final class Qwen3Architecture extends DecoderArchitecture {

    @Override
    public ModelFamily family() {
        return ModelFamily.QWEN3;
    }

    @Override
    protected boolean qkNorm(ModelConfig config) {
        return true;
    }
}
