package dev.bulkhead.engine.internal.cpu;

import java.util.Arrays;

/**
 * Several matrices that read the same input (q/k/v, or gate/up) multiplied in one parallel pass. NOTE: one
 * hand-off to the pool instead of one per matrix: a 2-thread decode of a 12-layer model makes 97 pool calls
 * per token with separate matmuls and 61 with grouped ones, and each call costs a wake-up and a join.
 * Results are bit-identical to multiplying each matrix alone: rows are still computed by
 * {@link WeightMatrix#multiplyRows}, only the split of work differs.
 */
public final class MatrixGroup {

    private final WeightMatrix[] matrices;
    private final int[] firstUnit; // (matrices + 1) cumulative row-grain units
    private final boolean anyQuantized;

    public MatrixGroup(WeightMatrix... matrices) {
        if (matrices.length == 0) {
            throw new IllegalArgumentException("a matrix group needs at least one matrix");
        }
        this.matrices = matrices.clone();
        this.firstUnit = new int[matrices.length + 1];
        for (int m = 0; m < matrices.length; m++) {
            if (matrices[m].cols() != matrices[0].cols()) {
                throw new IllegalArgumentException("matrices of a group share their input: " + matrices[m].cols()
                        + " columns vs " + matrices[0].cols());
            }
            firstUnit[m + 1] = firstUnit[m] + Math.ceilDiv(matrices[m].rows(), WeightMatrices.ROW_GRAIN);
        }
        this.anyQuantized = Arrays.stream(this.matrices).anyMatch(QuantizedMatrix.class::isInstance);
    }

    /** {@code outs[m] = x W_m^T} for every matrix m, the rows of all of them split over {@code pool}. */
    public void multiply(CpuThreadPool pool, float[] x, int tokens, float[][] outs) {
        if (outs.length != matrices.length) {
            throw new IllegalArgumentException("need " + matrices.length + " outputs, got " + outs.length);
        }
        // NOTE: the matrices share their input, so quantized ones share one quantization of it.
        Q8Activations a = anyQuantized ? WeightMatrices.quantize(pool, x, tokens, matrices[0].cols()) : null;
        pool.parallelFor(firstUnit[matrices.length], 1, (start, end) -> {
            for (int m = 0; m < matrices.length; m++) {
                int from = Math.max(start, firstUnit[m]);
                int to = Math.min(end, firstUnit[m + 1]);
                if (from < to) {
                    WeightMatrix w = matrices[m];
                    int rowStart = (from - firstUnit[m]) * WeightMatrices.ROW_GRAIN;
                    int rowEnd = Math.min(w.rows(), (to - firstUnit[m]) * WeightMatrices.ROW_GRAIN);
                    if (w instanceof QuantizedMatrix q) {
                        q.multiplyQuantized(a, outs[m], rowStart, rowEnd);
                    } else {
                        w.multiplyRows(x, tokens, outs[m], rowStart, rowEnd);
                    }
                }
            }
        });
    }
}
