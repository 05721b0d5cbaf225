package dev.bulkhead.engine.cpu;

import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.Dequantizer;
import dev.bulkhead.model.tensor.WeightTensor;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Any storage type, correct but not fast: each row is converted to floats by the scalar
 * {@link Dequantizer} into a buffer, then dotted with every token. Used for the K-quants (Q4_K, Q6_K),
 * whose super-block layouts have no vectorized kernel yet.
 */
final class DequantizingMatrix implements WeightMatrix {

    private final MemorySegment data;
    private final DType dtype;
    private final int rows;
    private final int cols;
    private final long rowBytes;

    DequantizingMatrix(WeightTensor t) {
        this.data = t.data();
        this.dtype = t.dtype();
        this.rows = t.rows();
        this.cols = t.cols();
        this.rowBytes = dtype.byteSize(cols);
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public void multiplyRows(float[] x, int tokens, float[] out, int rowStart, int rowEnd) {
        Objects.checkFromToIndex(rowStart, rowEnd, rows);
        if (tokens < 1) {
            throw new IllegalArgumentException("tokens must be >= 1, got " + tokens);
        }
        Objects.checkFromIndexSize(0, (long) tokens * cols, x.length);
        Objects.checkFromIndexSize(0, (long) tokens * rows, out.length);
        // NOTE: one row buffer per call (per thread and matmul), not per row; the slow path may allocate.
        float[] row = new float[cols];
        for (int r = rowStart; r < rowEnd; r++) {
            Dequantizer.dequantize(dtype, data, r * rowBytes, row, 0, cols);
            for (int t = 0; t < tokens; t++) {
                out[t * rows + r] = Vectors.dot(row, 0, x, t * cols, cols);
            }
        }
    }

    @Override
    public void dequantizeRow(int r, float[] dst, int off) {
        Objects.checkIndex(r, rows);
        Dequantizer.dequantize(dtype, data, r * rowBytes, dst, off, cols);
    }
}
