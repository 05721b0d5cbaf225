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
    private final RowShares shares;
    private final boolean anyQuantized;

    public MatrixGroup(WeightMatrix... matrices) {
        if (matrices.length == 0) {
            throw new IllegalArgumentException("a matrix group needs at least one matrix");
        }
        this.matrices = matrices.clone();
        for (WeightMatrix m : matrices) {
            if (m.cols() != matrices[0].cols()) {
                throw new IllegalArgumentException("matrices of a group share their input: " + m.cols()
                        + " columns vs " + matrices[0].cols());
            }
        }
        this.shares = new RowShares(this.matrices);
        this.anyQuantized = Arrays.stream(this.matrices).anyMatch(QuantizedMatrix.class::isInstance);
    }

    /**
     * As {@link #multiply(CpuThreadPool, float[], int, float[][])}, but through {@code blas} when it is not null
     * and takes every matrix of the group at this batch size (then the results are BLAS's, not bit-identical).
     */
    public void multiply(CpuThreadPool pool, BlasGemm blas, float[] x, int tokens, float[][] outs) {
        if (blas != null && Arrays.stream(matrices).allMatch(w -> blas.handles(w, tokens))) {
            checkOutputs(outs);
            blas.multiply(pool, matrices, x, tokens, outs);
        } else {
            multiply(pool, x, tokens, outs);
        }
    }

    /** {@code outs[m] = x W_m^T} for every matrix m, the rows of all of them split over {@code pool}. */
    public void multiply(CpuThreadPool pool, float[] x, int tokens, float[][] outs) {
        checkOutputs(outs);
        // NOTE: the matrices share their input, so quantized ones share one quantization of it.
        Q8Activations a = anyQuantized ? WeightMatrices.quantize(pool, x, tokens, matrices[0].cols()) : null;
        shares.forEach(pool, (m, rowStart, rowEnd) -> {
            if (matrices[m] instanceof QuantizedMatrix q) {
                q.multiplyQuantized(a, outs[m], rowStart, rowEnd);
            } else {
                matrices[m].multiplyRows(x, tokens, outs[m], rowStart, rowEnd);
            }
        });
    }

    private void checkOutputs(float[][] outs) {
        if (outs.length != matrices.length) {
            throw new IllegalArgumentException("need " + matrices.length + " outputs, got " + outs.length);
        }
    }
}
