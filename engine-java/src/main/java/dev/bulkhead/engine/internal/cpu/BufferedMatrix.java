package dev.bulkhead.engine.internal.cpu;

import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.WeightTensor;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Matrices whose rows are first converted to floats in a small buffer (four rows for one token; for several
 * tokens, {@link FloatTiles}), then multiplied by the float array kernels of {@link Vectors}. Each (row,
 * token) result is summed exactly like {@link Vectors#dot}, so it does not depend on the batch or the row
 * range.
 *
 * <p>NOTE: this exists because some conversions cannot share a loop with several FMA chains: with four
 * F16 rows in one loop C2 stopped keeping the vectors in registers and the product ran six times slower
 * than converting each row in its own small loop. The buffer stays in L1/L2, so the extra pass is cheap
 * next to streaming the weights from memory.
 */
abstract sealed class BufferedMatrix implements WeightMatrix permits F16Matrix {

    final MemorySegment data;
    final int rows;
    final int cols;
    final long rowBytes;
    private final DType dtype;
    private final int tokenChunk;

    BufferedMatrix(WeightTensor t) {
        this.data = t.data();
        this.dtype = t.dtype();
        this.rows = t.rows();
        this.cols = t.cols();
        this.rowBytes = dtype.byteSize(cols);
        this.tokenChunk = SegmentMatrix.tokenChunk(cols);
    }

    @Override
    public final int rows() {
        return rows;
    }

    @Override
    public final int cols() {
        return cols;
    }

    @Override
    public final DType dtype() {
        return dtype;
    }

    /** Converts row {@code r} to floats in {@code dst[off, off + cols)}; bounds already checked. */
    abstract void convertRow(int r, float[] dst, int off);

    @Override
    public final void dequantizeRow(int r, float[] dst, int off) {
        Objects.checkIndex(r, rows);
        Objects.checkFromIndexSize(off, cols, dst.length);
        convertRow(r, dst, off);
    }

    @Override
    public final void multiplyRows(float[] x, int tokens, float[] out, int rowStart, int rowEnd) {
        Objects.checkFromToIndex(rowStart, rowEnd, rows);
        if (tokens < 1) {
            throw new IllegalArgumentException("tokens must be >= 1, got " + tokens);
        }
        Objects.checkFromIndexSize(0, (long) tokens * cols, x.length);
        Objects.checkFromIndexSize(0, (long) tokens * rows, out.length);
        if (tokens == 1) {
            // NOTE: one buffer per call (per thread and matmul, not per row): a few KiB of short-lived garbage.
            float[] buf = new float[4 * cols];
            int r = rowStart;
            for (; r + 4 <= rowEnd; r += 4) {
                for (int i = 0; i < 4; i++) {
                    convertRow(r + i, buf, i * cols);
                }
                Vectors.dot4Rows(buf, 0, cols, x, 0, cols, out, r, 1);
            }
            for (; r < rowEnd; r++) {
                convertRow(r, buf, 0);
                out[r] = Vectors.dot(buf, 0, x, 0, cols);
            }
            return;
        }
        FloatTiles.multiply(this::convertRow, rows, cols, tokenChunk, x, tokens, out, rowStart, rowEnd);
    }
}
