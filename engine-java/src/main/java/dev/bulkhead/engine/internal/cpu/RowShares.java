package dev.bulkhead.engine.internal.cpu;

/**
 * The rows of several matrices as one run of {@link WeightMatrices#ROW_GRAIN}-row units, handed out over a pool
 * in a single call: each worker gets (matrix, row range) shares, the ranges aligned to the grain except at a
 * matrix's end. One hand-off for a whole group instead of one per matrix ({@link MatrixGroup} says why).
 */
final class RowShares {

    /** Work on rows [rowStart, rowEnd) of matrix {@code matrix}. */
    @FunctionalInterface
    interface Body {
        void run(int matrix, int rowStart, int rowEnd);
    }

    private final int[] rows;
    private final int[] firstUnit; // (matrices + 1) cumulative units

    RowShares(WeightMatrix[] matrices) {
        this.rows = new int[matrices.length];
        this.firstUnit = new int[matrices.length + 1];
        for (int m = 0; m < matrices.length; m++) {
            rows[m] = matrices[m].rows();
            firstUnit[m + 1] = firstUnit[m] + Math.ceilDiv(rows[m], WeightMatrices.ROW_GRAIN);
        }
    }

    /** Runs {@code body} over every row of every matrix, split over {@code pool}; returns when all are done. */
    void forEach(CpuThreadPool pool, Body body) {
        pool.parallelFor(firstUnit[rows.length], 1, (start, end) -> {
            for (int m = 0; m < rows.length; m++) {
                int from = Math.max(start, firstUnit[m]);
                int to = Math.min(end, firstUnit[m + 1]);
                if (from < to) {
                    body.run(m, (from - firstUnit[m]) * WeightMatrices.ROW_GRAIN,
                            Math.min(rows[m], (to - firstUnit[m]) * WeightMatrices.ROW_GRAIN));
                }
            }
        });
    }
}
