package dev.bulkhead.engine.internal.cpu;

import static dev.bulkhead.engine.internal.cpu.Vectors.FLOAT;
import static dev.bulkhead.engine.internal.cpu.Vectors.LANES;
import static dev.bulkhead.engine.internal.cpu.Vectors.SHORT;
import static dev.bulkhead.engine.internal.cpu.Vectors.SHORT_LE;

import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.Dequantizer;
import dev.bulkhead.model.tensor.WeightTensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;

/**
 * BF16 weights: one token reads them in place, each step loading {@code LANES} 16-bit values and widening
 * them to floats in registers ({@link Vectors#bf16ToFloat}); several tokens multiply rows widened into a
 * float array ({@link SegmentMatrix}). Any column count.
 *
 * <p>NOTE: this class repeats {@link F32Matrix#dot} with its own load on purpose: a shared kernel with a
 * virtual or branching load makes C2's graph too big to keep every vector in registers.
 */
final class Bf16Matrix extends SegmentMatrix {

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private final int upper;

    Bf16Matrix(WeightTensor t) {
        super(t, DType.BF16);
        this.upper = FLOAT.loopBound(cols);
    }

    @Override
    float dot(int r, float[] x, int xOff) {
        long b = rowOffset(r);
        FloatVector a = FloatVector.zero(FLOAT);
        for (int c = 0; c < upper; c += LANES) {
            a = load(b + 2L * c).fma(FloatVector.fromArray(FLOAT, x, xOff + c), a);
        }
        return tail(b, x, xOff, Vectors.sum(a));
    }

    private FloatVector load(long byteOffset) {
        ShortVector bits = ShortVector.fromMemorySegment(SHORT, data, byteOffset, LE);
        return Vectors.bf16ToFloat(bits);
    }

    private float scalar(long byteOffset) {
        short bits = data.get(SHORT_LE, byteOffset);
        return Dequantizer.bf16ToFloat(bits);
    }

    private float tail(long rowBase, float[] x, int xOff, float s) {
        for (int c = upper; c < cols; c++) {
            s = Math.fma(scalar(rowBase + 2L * c), x[xOff + c], s);
        }
        return s;
    }

    /**
     * Rows [r0, r1) widened to floats in native byte order at {@code dst[dstOff ..]} (a float tile for BLAS,
     * {@link BlasGemm}).
     */
    void widenRows(int r0, int r1, MemorySegment dst, long dstOff) {
        long d = dstOff;
        for (int r = r0; r < r1; r++) {
            long b = rowOffset(r);
            int c = 0;
            for (; c < upper; c += LANES) {
                load(b + 2L * c).intoMemorySegment(dst, d + 4L * c, NATIVE);
            }
            for (; c < cols; c++) {
                dst.set(ValueLayout.JAVA_FLOAT, d + 4L * c, scalar(b + 2L * c));
            }
            d += 4L * cols;
        }
    }

    @Override
    void convertRow(int r, float[] dst, int off) {
        long b = rowOffset(r);
        int c = 0;
        for (; c < upper; c += LANES) {
            load(b + 2L * c).intoArray(dst, off + c);
        }
        for (; c < cols; c++) {
            dst[off + c] = scalar(b + 2L * c);
        }
    }
}
