package dev.bulkhead.bench;

import dev.bulkhead.engine.internal.cpu.BlasGemm;
import dev.bulkhead.engine.internal.cpu.CpuThreadPool;
import dev.bulkhead.engine.internal.cpu.WeightMatrices;
import dev.bulkhead.engine.internal.cpu.WeightMatrix;
import dev.bulkhead.model.tensor.DType;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The Java kernels against OpenBLAS on the same matrix in one JVM, interleaved: each round times every
 * {@code gemm} of {@link MatmulBenchmark#blasFor} once per token count, and the best round counts. NOTE: on a
 * shared, noisy machine a JMH run per variant would compare different minutes; rounds that alternate the
 * variants give each the same chances, and the best of them is the least disturbed.
 *
 * <p>{@code main(dtypes, rows, cols, tokenCounts, threads, rounds)}, e.g.
 * {@code GemmCompare F32,BF16 4096 4096 1,8,16,32,128 2 5}; prints one line per (dtype, tokens) with GFLOP/s
 * and the ratio to Java. Any {@code DType}: the OpenBLAS columns of a type it does not take repeat the Java one.
 *
 * <p>NOTE: compare a quantized type's kernel in a JVM of its own. Types measured one after another in one JVM
 * slowed the later ones (one token, 2048 x 768, one thread: Q4_0 3.1 GFLOP/s after F32, BF16, F16 and Q8_0
 * against 18.6 alone; Q8_0 13.2 after Q4_0 against 19.4 alone); the cause was not looked into.
 */
public final class GemmCompare {

    private static final List<String> GEMMS = List.of("java", "openblas", "openblas-copy");

    private GemmCompare() {
    }

    public static void main(String[] args) {
        List<DType> dtypes = List.of(args[0].split(",")).stream().map(DType::valueOf).toList();
        int rows = Integer.parseInt(args[1]);
        int cols = Integer.parseInt(args[2]);
        int[] tokenCounts = List.of(args[3].split(",")).stream().mapToInt(Integer::parseInt).toArray();
        int threads = Integer.parseInt(args[4]);
        int rounds = Integer.parseInt(args[5]);
        int maxTokens = java.util.Arrays.stream(tokenCounts).max().orElseThrow();
        SplittableRandom rnd = new SplittableRandom(7);
        float[] x = new float[maxTokens * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextDouble() - 0.5);
        }
        float[] out = new float[maxTokens * rows];
        BlasGemm[] blas = new BlasGemm[GEMMS.size()];
        try (Arena arena = Arena.ofShared(); CpuThreadPool pool = new CpuThreadPool(threads)) {
            for (int g = 0; g < GEMMS.size(); g++) {
                blas[g] = MatmulBenchmark.blasFor(GEMMS.get(g));
            }
            for (DType dtype : dtypes) {
                WeightMatrix w = WeightMatrices.of(WeightFactory.random(arena, dtype, rows, cols, 42));
                double[][] best = new double[tokenCounts.length][GEMMS.size()];
                for (int round = 0; round < rounds + 1; round++) {
                    for (int i = 0; i < tokenCounts.length; i++) {
                        for (int g = 0; g < GEMMS.size(); g++) {
                            double s = time(pool, blas[g], w, x, tokenCounts[i], out);
                            // NOTE: round 0 warms the JIT and OpenBLAS's threads and is not counted.
                            if (round > 0 && (best[i][g] == 0 || s < best[i][g])) {
                                best[i][g] = s;
                            }
                        }
                    }
                }
                for (int i = 0; i < tokenCounts.length; i++) {
                    StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-5s %dx%d tokens %4d threads %d:",
                            dtype, rows, cols, tokenCounts[i], threads));
                    for (int g = 0; g < GEMMS.size(); g++) {
                        double gflops = 2e-9 * rows * cols * tokenCounts[i] / best[i][g];
                        line.append(String.format(Locale.ROOT, "  %s %.1f GFLOP/s (%.3f ms, x%.2f)", GEMMS.get(g),
                                gflops, best[i][g] * 1e3, best[i][0] / best[i][g]));
                    }
                    System.out.println(line);
                }
            }
        } finally {
            for (BlasGemm b : blas) {
                if (b != null) {
                    b.close();
                }
            }
        }
    }

    /** Seconds per product, the mean of enough repetitions to fill about 0.3 s. */
    private static double time(CpuThreadPool pool, BlasGemm blas, WeightMatrix w, float[] x, int tokens, float[] out) {
        int reps = 0;
        long start = System.nanoTime();
        long elapsed;
        do {
            // NOTE: a type OpenBLAS does not take (F16, the quantized ones) runs on the Java kernels, as in the engine.
            if (blas == null || !blas.handles(w, tokens)) {
                WeightMatrices.parallelMultiply(pool, w, x, tokens, out);
            } else {
                blas.multiply(pool, w, x, tokens, out);
            }
            reps++;
            elapsed = System.nanoTime() - start;
        } while (elapsed < 300_000_000L);
        return elapsed / 1e9 / reps;
    }
}
