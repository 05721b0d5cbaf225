package dev.bulkhead.bench;

import dev.bulkhead.engine.runner.BatchInput;
import dev.bulkhead.engine.runner.CpuModelRunner;
import dev.bulkhead.engine.runner.CpuRunnerOptions;
import dev.bulkhead.model.arch.DecoderArchitecture;
import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.hf.HfConfigReader;
import dev.bulkhead.model.safetensors.SafetensorsWeightSource;
import java.util.ArrayList;
import java.util.List;
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
            int start = Math.max(config.bosTokenId(), 0);
            for (int i = 0; i < spec.warmupRuns(); i++) {
                decode(runner, config.vocabSize(), blockTable, start, spec.positions());
            }
            List<Double> seconds = new ArrayList<>();
            for (int i = 0; i < spec.runs(); i++) {
                seconds.add(decode(runner, config.vocabSize(), blockTable, start, spec.positions()));
            }
            return new DecodeResult("bulkhead", spec.dtype(), spec.threads(), spec.tokens(), seconds,
                    "CpuModelRunner, " + runner.threads() + " thread(s)");
        }
    }

    /** Seconds for steps 1..positions-1 (step 0 is untimed). EOS does not stop the run: every run is equal. */
    private static double decode(CpuModelRunner runner, int vocab, int[] blockTable, int firstToken, int positions) {
        int token = firstToken;
        long start = 0;
        for (int pos = 0; pos < positions; pos++) {
            if (pos == 1) {
                start = System.nanoTime();
            }
            float[] logits = runner.forward(BatchInput.single(new int[] {token}, pos, blockTable));
            token = argmax(logits, vocab);
        }
        return (System.nanoTime() - start) / 1e9;
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
