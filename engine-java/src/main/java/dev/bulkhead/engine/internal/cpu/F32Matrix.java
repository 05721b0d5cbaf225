package dev.bulkhead.engine.internal.cpu;

import static dev.bulkhead.engine.internal.cpu.Vectors.FLOAT;
import static dev.bulkhead.engine.internal.cpu.Vectors.FLOAT_LE;
import static dev.bulkhead.engine.internal.cpu.Vectors.LANES;

import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.WeightTensor;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;

/** F32 weights read in place. Any column count: the part past the last full vector is a scalar tail. */
final class F32Matrix extends SegmentMatrix {

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private final int upper;

    F32Matrix(WeightTensor t) {
        super(t, DType.F32);
        this.upper = FLOAT.loopBound(cols);
    }

    @Override
    float dot(int r, float[] x, int xOff) {
        long b = rowOffset(r);
        FloatVector a = FloatVector.zero(FLOAT);
        for (int c = 0; c < upper; c += LANES) {
            a = load(b + 4L * c).fma(FloatVector.fromArray(FLOAT, x, xOff + c), a);
        }
        return tail(b, x, xOff, Vectors.sum(a));
    }

    private FloatVector load(long byteOffset) {
        return FloatVector.fromMemorySegment(FLOAT, data, byteOffset, LE);
    }

    private float tail(long rowBase, float[] x, int xOff, float s) {
        for (int c = upper; c < cols; c++) {
            s = Math.fma(data.get(FLOAT_LE, rowBase + 4L * c), x[xOff + c], s);
        }
        return s;
    }

    @Override
    void convertRow(int r, float[] dst, int off) {
        MemorySegment.copy(data, FLOAT_LE, rowOffset(r), dst, off, cols);
    }
}
