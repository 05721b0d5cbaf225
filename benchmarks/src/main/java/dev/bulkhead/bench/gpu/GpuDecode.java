package dev.bulkhead.bench.gpu;

import dev.bulkhead.bench.DecodeLoop;
import dev.bulkhead.bench.DecodeResult;
import dev.bulkhead.bench.DecodeSpec;
import dev.bulkhead.engine.internal.cuda.CudaModelRunner.DecodeSteps;
import dev.bulkhead.engine.internal.cuda.CudaModelRunner;
import dev.bulkhead.engine.internal.runner.BatchInput;
import dev.bulkhead.engine.internal.runner.CpuRunnerOptions;
import dev.bulkhead.model.arch.ModelWeights;
import java.util.Locale;
import java.util.stream.IntStream;

/**
 * Batch-1 greedy decode on {@link CudaModelRunner}, timed as {@link DecodeSpec} describes, with decode steps run
 * {@link DecodeSteps#EAGER eagerly} or replayed from {@link DecodeSteps#GRAPHS CUDA graphs}. Each step's argmax
 * is taken on the device and only the id comes back (the runner's {@code greedy}), the least host work a step
 * can have; the engine itself still copies logits back and samples on the host.
 */
public final class GpuDecode {

    /**
     * One mode's decode and how long its runner took to load.
     *
     * @param result      the timed runs
     * @param loadSeconds building the runner: weights converted and uploaded, buffers allocated
     */
    public record Timed(DecodeResult result, double loadSeconds) {
    }

    private GpuDecode() {
    }

    /** The engine name a mode's results carry ({@code bulkhead-cuda-graphs}, ...). */
    public static String engineName(DecodeSteps mode) {
        return "bulkhead-cuda-" + mode.name().toLowerCase(Locale.ROOT);
    }

    /** Uploads {@code weights} to device 0 of the bound CUDA, decodes {@code spec} in {@code mode}, and unloads. */
    public static Timed run(ModelWeights weights, DecodeSpec spec, DecodeSteps mode) {
        if (spec.positions() > weights.config().maxPositionEmbeddings()) {
            throw new IllegalArgumentException(spec.tokens() + " tokens do not fit the model's context of "
                    + weights.config().maxPositionEmbeddings());
        }
        long start = System.nanoTime();
        try (CudaModelRunner runner = new CudaModelRunner(weights, CpuRunnerOptions.forContext(1, spec.positions(), 1),
                0, mode)) {
            double load = (System.nanoTime() - start) / 1e9;
            int[] blockTable = IntStream.range(0, runner.numBlocks()).toArray();
            DecodeResult r = DecodeLoop.run(spec, engineName(mode), mode + ", argmax on the device, " + runner.describe(),
                    Math.max(weights.config().bosTokenId(), 0),
                    (token, pos) -> runner.greedy(BatchInput.single(new int[] {token}, pos, blockTable))[0]);
            return new Timed(r, load);
        }
    }
}
