package dev.bulkhead.engine.internal.cpu;

import static dev.bulkhead.engine.internal.cpu.Vectors.SHORT_LE;

import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.WeightTensor;

/**
 * F16 weights: each row is widened to floats into a small buffer by a loop of its own, then multiplied (see
 * {@link BufferedMatrix} for why). Any column count.
 *
 * <p>NOTE: the widening is a plain loop of {@link Float#float16ToFloat}, not Vector API code: C2 intrinsifies
 * the conversion and vectorizes the loop into the CPU's half-to-float instruction ({@code vcvtph2ps} on x86
 * with F16C, {@code fcvtl} on ARM), which the Vector API of JDK 25 cannot express. The bit-twiddling vector
 * form it replaces took ten integer ops per vector and made F16 decode compute bound at half of BF16's speed.
 */
final class F16Matrix extends BufferedMatrix {

    F16Matrix(WeightTensor t) {
        super(t);
        if (t.dtype() != DType.F16) {
            throw new IllegalArgumentException("tensor " + t.name() + " is " + t.dtype() + ", expected F16");
        }
    }

    @Override
    void convertRow(int r, float[] dst, int off) {
        long b = r * rowBytes;
        for (int c = 0; c < cols; c++) {
            dst[off + c] = Float.float16ToFloat(data.get(SHORT_LE, b + 2L * c));
        }
    }
}
