package dev.bulkhead.engine.cpu;

import dev.bulkhead.model.tensor.Dequantizer;
import dev.bulkhead.model.tensor.WeightTensor;

/**
 * Any storage type, correct but not fast: rows are converted by the scalar {@link Dequantizer}. Used for
 * the K-quants (Q4_K, Q6_K), whose super-block layouts have no vectorized kernel yet.
 */
final class DequantizingMatrix extends BufferedMatrix {

    DequantizingMatrix(WeightTensor t) {
        super(t);
    }

    @Override
    void convertRow(int r, float[] dst, int off) {
        Dequantizer.dequantize(dtype(), data, r * rowBytes, dst, off, cols);
    }
}
