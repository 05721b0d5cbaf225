package dev.bulkhead.bench;

import dev.bulkhead.engine.internal.cpu.CpuKvCache;
import dev.bulkhead.engine.internal.cpu.PagedAttention;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The CPU attention kernel alone, on one thread: a prefill's group of consecutive tokens
 * ({@link PagedAttention#attendQueries}) at the end of a long context, for every head of a stories110M-shaped
 * layer (12 heads of 64, a 768-float KV slot), the heads in turn as the engine's head-major tasks take them.
 * Prints GFLOP/s per one-second round (a score and a weighted value are two FMAs per head dimension), so the
 * kernel can be compared between builds without the matrices around it.
 *
 * <p>{@code main(contextLength, tokens, rounds[, kvHeads])}, e.g. {@code AttentionCompare 2048 16 6}: the
 * tokens' last one sees {@code contextLength} positions. {@code kvHeads} below 12 makes grouped-query heads
 * share their K and V.
 */
public final class AttentionCompare {

    private static final int HEADS = 12;
    private static final int HEAD_DIM = 64;
    private static final int BLOCK_SIZE = 16;

    private AttentionCompare() {
    }

    public static void main(String[] args) {
        int context = Integer.parseInt(args[0]);
        int tokens = Integer.parseInt(args[1]);
        int rounds = Integer.parseInt(args[2]);
        int kvHeads = args.length > 3 ? Integer.parseInt(args[3]) : HEADS;
        int blocks = (context + BLOCK_SIZE - 1) / BLOCK_SIZE;
        CpuKvCache cache = new CpuKvCache(1, blocks, BLOCK_SIZE, kvHeads, HEAD_DIM);
        SplittableRandom rnd = new SplittableRandom(1);
        float[] k = new float[kvHeads * HEAD_DIM];
        float[] v = new float[kvHeads * HEAD_DIM];
        for (int slot = 0; slot < blocks * BLOCK_SIZE; slot++) {
            fill(k, rnd, 1f);
            fill(v, rnd, 1f);
            cache.write(0, slot, k, 0, v, 0);
        }
        // NOTE: blocks in a scattered order, as a pool that has served other sequences hands them out.
        int[] table = new int[blocks];
        for (int i = 0; i < blocks; i++) {
            table[i] = i;
        }
        for (int i = blocks - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = table[i];
            table[i] = table[j];
            table[j] = t;
        }
        int qDim = HEADS * HEAD_DIM;
        float[] q = new float[tokens * qDim];
        fill(q, rnd, 0.1f);
        float[] out = new float[tokens * qDim];
        int firstContext = context - tokens + 1;
        float[] scratch = new float[Math.toIntExact(PagedAttention.queriesScratch(firstContext, tokens))];
        double flopsPerPass = 0;
        for (int i = 0; i < tokens; i++) {
            flopsPerPass += 4.0 * HEAD_DIM * HEADS * (firstContext + i);
        }
        for (int round = 0; round < rounds; round++) {
            long start = System.nanoTime();
            int passes = 0;
            while (System.nanoTime() - start < 1_000_000_000L) {
                for (int h = 0; h < HEADS; h++) {
                    PagedAttention.attendQueries(cache, 0, q, 0, qDim, h, HEADS, table, firstContext, tokens, 0,
                            0.125f, out, h * HEAD_DIM, qDim, scratch);
                }
                passes++;
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf(Locale.ROOT, "context %d tokens %d kvHeads %d round %d: %.2f GFLOP/s%n", context,
                    tokens, kvHeads, round, flopsPerPass * passes / seconds / 1e9);
        }
    }

    private static void fill(float[] a, SplittableRandom rnd, float scale) {
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (rnd.nextDouble() - 0.5) * 2f * scale;
        }
    }
}
