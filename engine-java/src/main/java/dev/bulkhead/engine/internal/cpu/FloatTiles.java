package dev.bulkhead.engine.internal.cpu;

/**
 * Several tokens times a matrix whose rows are first converted to floats, two at a time, into a small array:
 * {@link Vectors#dot2Rows4Tokens}, the 2 x 4 register tile, over that array and the activations, one chunk of
 * tokens (whose activations fit in L2) at a time. Each (row, token) result is summed exactly as
 * {@link Vectors#dot} sums it, so it does not depend on the batch, the chunk or the row range.
 *
 * <p>NOTE: the F32 and BF16 matrices tile here too rather than over their weight segments in place. The same
 * tile over the segment ran at 35-37 GFLOP/s for BF16 (widened in registers) and 36-47 for F32, against 49-54
 * and 46-53 over the converted copy (one thread, AVX2, JDK 25, {@code GemmCompare BF16 2048 768 8,16,32,128 1
 * 6}, alternated); the copy costs one pass over two rows per chunk, repaid by the four tokens or more that
 * read it.
 */
final class FloatTiles {

    /** Writes row {@code r} as floats to {@code dst[off, off + cols)}; bounds already checked. */
    @FunctionalInterface
    interface RowConverter {
        void convertRow(int r, float[] dst, int off);
    }

    private FloatTiles() {
    }

    /**
     * {@code out[t * rows + r] = W[r] . x[t * cols ..]} for r in [rowStart, rowEnd) and t in [0, tokens), the
     * rows of W given by {@code converter}; the caller has checked every bound.
     */
    static void multiply(RowConverter converter, int rows, int cols, int tokenChunk, float[] x, int tokens,
                         float[] out, int rowStart, int rowEnd) {
        // NOTE: one buffer per call (per thread and matmul, not per row): a few KiB of short-lived garbage.
        float[] buf = new float[2 * cols];
        for (int t0 = 0; t0 < tokens; t0 += tokenChunk) {
            int t1 = Math.min(tokens, t0 + tokenChunk);
            int r = rowStart;
            for (; r + 2 <= rowEnd; r += 2) {
                converter.convertRow(r, buf, 0);
                converter.convertRow(r + 1, buf, cols);
                int t = t0;
                for (; t + 4 <= t1; t += 4) {
                    Vectors.dot2Rows4Tokens(buf, 0, x, t * cols, cols, cols, out, t * rows + r, rows);
                }
                for (; t < t1; t++) {
                    out[t * rows + r] = Vectors.dot(buf, 0, x, t * cols, cols);
                    out[t * rows + r + 1] = Vectors.dot(buf, cols, x, t * cols, cols);
                }
            }
            if (r < rowEnd) {
                converter.convertRow(r, buf, 0);
                int t = t0;
                for (; t + 4 <= t1; t += 4) {
                    Vectors.dot4Tokens(buf, 0, x, t * cols, cols, cols, out, t * rows + r, rows);
                }
                for (; t < t1; t++) {
                    out[t * rows + r] = Vectors.dot(buf, 0, x, t * cols, cols);
                }
            }
        }
    }
}
