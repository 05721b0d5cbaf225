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
    boolean hasTwoRowKernel() {
        return true;
    }

    @Override
    void dot2Rows4Tokens(int r, float[] x, int xOff, float[] out, int outOff) {
        long b0 = rowOffset(r);
        long b1 = b0 + rowBytes;
        int x1 = xOff + cols;
        int x2 = x1 + cols;
        int x3 = x2 + cols;
        FloatVector a0 = FloatVector.zero(FLOAT);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector c0 = a0;
        FloatVector c1 = a0;
        FloatVector c2 = a0;
        FloatVector c3 = a0;
        for (int c = 0; c < upper; c += LANES) {
            LoopShape.keepRolled(c);
            FloatVector w0 = load(b0 + 4L * c);
            FloatVector w1 = load(b1 + 4L * c);
            FloatVector v0 = FloatVector.fromArray(FLOAT, x, xOff + c);
            FloatVector v1 = FloatVector.fromArray(FLOAT, x, x1 + c);
            FloatVector v2 = FloatVector.fromArray(FLOAT, x, x2 + c);
            FloatVector v3 = FloatVector.fromArray(FLOAT, x, x3 + c);
            a0 = w0.fma(v0, a0);
            a1 = w0.fma(v1, a1);
            a2 = w0.fma(v2, a2);
            a3 = w0.fma(v3, a3);
            c0 = w1.fma(v0, c0);
            c1 = w1.fma(v1, c1);
            c2 = w1.fma(v2, c2);
            c3 = w1.fma(v3, c3);
        }
        out[outOff] = tail(b0, x, xOff, Vectors.sum(a0));
        out[outOff + rows] = tail(b0, x, x1, Vectors.sum(a1));
        out[outOff + 2 * rows] = tail(b0, x, x2, Vectors.sum(a2));
        out[outOff + 3 * rows] = tail(b0, x, x3, Vectors.sum(a3));
        out[outOff + 1] = tail(b1, x, xOff, Vectors.sum(c0));
        out[outOff + 1 + rows] = tail(b1, x, x1, Vectors.sum(c1));
        out[outOff + 1 + 2 * rows] = tail(b1, x, x2, Vectors.sum(c2));
        out[outOff + 1 + 3 * rows] = tail(b1, x, x3, Vectors.sum(c3));
    }

    @Override
    void dot4Tokens(int r, float[] x, int xOff, float[] out, int outOff) {
        long b = rowOffset(r);
        int x1 = xOff + cols;
        int x2 = x1 + cols;
        int x3 = x2 + cols;
        FloatVector a0 = FloatVector.zero(FLOAT);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int c = 0; c < upper; c += LANES) {
            FloatVector w = load(b + 4L * c);
            a0 = w.fma(FloatVector.fromArray(FLOAT, x, xOff + c), a0);
            a1 = w.fma(FloatVector.fromArray(FLOAT, x, x1 + c), a1);
            a2 = w.fma(FloatVector.fromArray(FLOAT, x, x2 + c), a2);
            a3 = w.fma(FloatVector.fromArray(FLOAT, x, x3 + c), a3);
        }
        out[outOff] = tail(b, x, xOff, Vectors.sum(a0));
        out[outOff + rows] = tail(b, x, x1, Vectors.sum(a1));
        out[outOff + 2 * rows] = tail(b, x, x2, Vectors.sum(a2));
        out[outOff + 3 * rows] = tail(b, x, x3, Vectors.sum(a3));
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
    public void dequantizeRow(int r, float[] dst, int off) {
        checkRow(r, dst, off);
        MemorySegment.copy(data, FLOAT_LE, rowOffset(r), dst, off, cols);
    }
}
