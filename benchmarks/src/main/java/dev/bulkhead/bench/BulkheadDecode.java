package dev.bulkhead.bench;

import dev.bulkhead.engine.internal.runner.BatchInput;
import dev.bulkhead.engine.internal.runner.CpuModelRunner;
import dev.bulkhead.engine.internal.runner.CpuRunnerOptions;
import dev.bulkhead.model.arch.DecoderArchitecture;
import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.hf.HfConfigReader;
import dev.bulkhead.model.safetensors.SafetensorsWeightSource;
import java.util.stream.IntStream;

/** Greedy single-sequence decode on Bulkhead's CPU runner, timed the way {@link DecodeSpec} describes. */
public final class BulkheadDecode {

    private BulkheadDecode() {
    }

    /** Loads the checkpoint, decodes and returns the timings; the model is unloaded before returning. */
    public static DecodeResult run(DecodeSpec spec) {
        ModelConfig config = HfConfigReader.read(spec.modelDir().resolve("config.json"));
        if (spec.positions() > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException(spec.tokens() + " tokens do not fit the model's context of "
                    + config.maxPositionEmbeddings());
        }
        try (SafetensorsWeightSource source = SafetensorsWeightSource.open(spec.modelDir());
             CpuModelRunner runner = new CpuModelRunner(DecoderArchitecture.of(config.family()).bind(config, source),
                     CpuRunnerOptions.forContext(spec.threads(), spec.positions(), 1))) {
            int[] blockTable = IntStream.range(0, runner.numBlocks()).toArray();
            int vocab = config.vocabSize();
            return DecodeLoop.run(spec, "bulkhead", "CpuModelRunner, " + runner.threads() + " thread(s)",
                    Math.max(config.bosTokenId(), 0),
                    (token, pos) -> argmax(runner.forward(BatchInput.single(new int[] {token}, pos, blockTable)), vocab));
        }
    }

    static int argmax(float[] logits, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
