package dev.bulkhead.bench.peer;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.engine.internal.runner.BatchInput;
import dev.bulkhead.engine.internal.runner.CpuModelRunner;
import dev.bulkhead.engine.internal.runner.CpuRunnerOptions;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.model.ModelLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Bulkhead's side of the peer benchmark, in process (no HTTP): a GGUF file loaded as the server loads it
 * ({@link ModelLoader}) into a {@link CpuModelRunner}, then timed like llama-bench's {@code tg} and
 * {@code pp} tests. Decode: greedy steps from BOS, one token each, the first step untimed. Prefill: one
 * prompt of random ids forwarded as a single batch with logits for its last token. Warm-up runs first so the
 * JIT has compiled the kernels, as llama-bench also warms up.
 *
 * <p>Run as a child JVM ({@link #main}) so each file gets a fresh heap and JIT profile and the JVM flags
 * the benchmark asks for (for example {@code -XX:UseAVX=2}); prints one tagged JSON line.
 */
public final class BulkheadGgufRun {

    static final String TAG = "GGUF-RESULT ";

    private BulkheadGgufRun() {
    }

    /** {@code main(gguf, type, threads, decodeTokens, promptTokens, warmupRuns, runs)}. */
    public static void main(String[] args) throws Exception {
        if (args.length != 7) {
            throw new IllegalArgumentException(
                    "usage: BulkheadGgufRun <file.gguf> <type> <threads> <decodeTokens> <promptTokens> <warmup> <runs>");
        }
        GgufTimings t = run(Path.of(args[0]), args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                Integer.parseInt(args[4]), Integer.parseInt(args[5]), Integer.parseInt(args[6]));
        System.out.println(TAG + new ObjectMapper().writeValueAsString(t));
    }

    static GgufTimings run(Path gguf, String type, int threads, int decodeTokens, int promptTokens, int warmup,
                           int runs) {
        LoadedModel model = ModelLoader.load(gguf.toString());
        try {
            int vocab = model.config().vocabSize();
            int context = Math.max(decodeTokens + 1, promptTokens);
            try (CpuModelRunner runner = new CpuModelRunner(model.weights(),
                    CpuRunnerOptions.forContext(threads, context, promptTokens))) {
                int[] blocks = IntStream.range(0, runner.numBlocks()).toArray();
                int bos = Math.max(model.config().bosTokenId(), 0);
                int[] prompt = new SplittableRandom(1).ints(promptTokens, 3, vocab).toArray();
                List<Double> decode = new ArrayList<>();
                List<Double> prefill = new ArrayList<>();
                for (int i = 0; i < warmup + runs; i++) {
                    double d = decodeTokens / decodeSeconds(runner, blocks, bos, decodeTokens, vocab);
                    long start = System.nanoTime();
                    runner.forward(BatchInput.single(prompt, 0, blocks));
                    double p = promptTokens / ((System.nanoTime() - start) / 1e9);
                    if (i >= warmup) {
                        decode.add(d);
                        prefill.add(p);
                    }
                }
                return new GgufTimings("bulkhead", type, threads, decode, prefill,
                        "in-process CpuModelRunner, " + runner.threads() + " thread(s), JVM "
                                + Runtime.version() + ", " + String.join(" ", jvmFlags()));
            }
        } finally {
            model.close();
        }
    }

    /** Seconds for steps 1..tokens of a greedy decode from position 0 (step 0 untimed). */
    private static double decodeSeconds(CpuModelRunner runner, int[] blocks, int bos, int tokens, int vocab) {
        int token = bos;
        long start = 0;
        for (int pos = 0; pos <= tokens; pos++) {
            if (pos == 1) {
                start = System.nanoTime();
            }
            token = argmax(runner.forward(BatchInput.single(new int[] {token}, pos, blocks)), vocab);
        }
        return (System.nanoTime() - start) / 1e9;
    }

    private static int argmax(float[] logits, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    private static List<String> jvmFlags() {
        return java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("-XX:UseAVX") || a.startsWith("-XX:MaxVectorSize")).toList();
    }
}
