package dev.bulkhead.engine.internal.cpu;

import static dev.bulkhead.engine.internal.cpu.Vectors.FLOAT;
import static dev.bulkhead.engine.internal.cpu.Vectors.LANES;
import static dev.bulkhead.engine.internal.cpu.Vectors.SHORT;
import static dev.bulkhead.engine.internal.cpu.Vectors.SHORT_LE;

import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.Dequantizer;
import dev.bulkhead.model.tensor.WeightTensor;
import java.nio.ByteOrder;
import jdk.incubator.vector.ShortVector;

/**
 * F16 weights: each row is widened to floats in registers ({@link Vectors#f16ToFloat}) into a small
 * buffer by a loop of its own, then multiplied (see {@link BufferedMatrix} for why). Any column count.
 */
final class F16Matrix extends BufferedMatrix {

    private final int upper;

    F16Matrix(WeightTensor t) {
        super(t);
        if (t.dtype() != DType.F16) {
            throw new IllegalArgumentException("tensor " + t.name() + " is " + t.dtype() + ", expected F16");
        }
        this.upper = FLOAT.loopBound(cols);
    }

    @Override
    void convertRow(int r, float[] dst, int off) {
        long b = r * rowBytes;
        int c = 0;
        for (; c < upper; c += LANES) {
            ShortVector bits = ShortVector.fromMemorySegment(SHORT, data, b + 2L * c, ByteOrder.LITTLE_ENDIAN);
            Vectors.f16ToFloat(bits).intoArray(dst, off + c);
        }
        for (; c < cols; c++) {
            dst[off + c] = Dequantizer.f16ToFloat(data.get(SHORT_LE, b + 2L * c));
        }
    }
}
