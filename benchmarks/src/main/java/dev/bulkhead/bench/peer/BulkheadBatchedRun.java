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
 * Bulkhead's side of {@code llama-batched-bench} (its default pattern, prompts not shared): a GGUF file in a
 * {@link CpuModelRunner} with a KV pool sized for every sequence, each sequence's prompt of random ids
 * prefilled in one batch, then decode steps that carry one random token per sequence with logits for all of
 * them, timed as aggregate tok/s. In process, no scheduler or HTTP: the batched matrix products and paged
 * attention are what is measured, as llama-batched-bench measures llama_decode. Warm-up runs first (JIT).
 */
public final class BulkheadBatchedRun {

    static final String TAG = "BATCHED-RESULT ";
    private static final int BLOCK_SIZE = 16;

    private BulkheadBatchedRun() {
    }

    /** {@code main(gguf, type, threads, promptTokens, genTokens, sequences, warmup, runs)}. */
    public static void main(String[] args) throws Exception {
        if (args.length != 8) {
            throw new IllegalArgumentException("usage: BulkheadBatchedRun <file.gguf> <type> <threads> <promptTokens>"
                    + " <genTokens> <sequences> <warmup> <runs>");
        }
        BatchedTimings t = run(Path.of(args[0]), args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                Integer.parseInt(args[4]), Integer.parseInt(args[5]), Integer.parseInt(args[6]),
                Integer.parseInt(args[7]));
        System.out.println(TAG + new ObjectMapper().writeValueAsString(t));
    }

    static BatchedTimings run(Path gguf, String type, int threads, int promptTokens, int genTokens, int sequences,
                              int warmup, int runs) {
        LoadedModel model = ModelLoader.load(gguf.toString());
        try {
            int vocab = model.config().vocabSize();
            int blocksPerSeq = (promptTokens + genTokens + BLOCK_SIZE - 1) / BLOCK_SIZE;
            int maxBatch = Math.max(promptTokens, sequences);
            try (CpuModelRunner runner = new CpuModelRunner(model.weights(),
                    new CpuRunnerOptions(threads, BLOCK_SIZE, blocksPerSeq * sequences, maxBatch))) {
                int[][] tables = new int[sequences][];
                for (int s = 0; s < sequences; s++) {
                    tables[s] = IntStream.range(s * blocksPerSeq, (s + 1) * blocksPerSeq).toArray();
                }
                SplittableRandom rnd = new SplittableRandom(1);
                List<Double> decode = new ArrayList<>();
                List<Double> prefill = new ArrayList<>();
                for (int i = 0; i < warmup + runs; i++) {
                    long start = System.nanoTime();
                    for (int s = 0; s < sequences; s++) {
                        runner.forward(BatchInput.single(rnd.ints(promptTokens, 3, vocab).toArray(), 0, tables[s]));
                    }
                    double p = (double) sequences * promptTokens / ((System.nanoTime() - start) / 1e9);
                    start = System.nanoTime();
                    for (int step = 0; step < genTokens; step++) {
                        runner.forward(decodeStep(rnd, vocab, promptTokens + step, tables));
                    }
                    double d = (double) sequences * genTokens / ((System.nanoTime() - start) / 1e9);
                    if (i >= warmup) {
                        decode.add(d);
                        prefill.add(p);
                    }
                }
                return new BatchedTimings("bulkhead", type, sequences, promptTokens, genTokens, decode, prefill,
                        "in-process CpuModelRunner, " + runner.threads() + " thread(s), JVM " + Runtime.version());
            }
        } finally {
            model.close();
        }
    }

    /** One random token per sequence at {@code position}, logits for every sequence. */
    private static BatchInput decodeStep(SplittableRandom rnd, int vocab, int position, int[][] tables) {
        int n = tables.length;
        int[] positions = new int[n];
        java.util.Arrays.fill(positions, position);
        return new BatchInput(rnd.ints(n, 3, vocab).toArray(), positions, IntStream.rangeClosed(0, n).toArray(),
                tables, IntStream.range(0, n).toArray());
    }
}
