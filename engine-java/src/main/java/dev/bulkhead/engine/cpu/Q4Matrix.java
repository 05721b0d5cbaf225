package dev.bulkhead.engine.cpu;

import static dev.bulkhead.engine.cpu.Vectors.FLOAT;
import static dev.bulkhead.engine.cpu.Vectors.LANES;
import static dev.bulkhead.engine.cpu.Vectors.SHORT_LE;

import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.Dequantizer;
import dev.bulkhead.model.tensor.WeightTensor;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * ggml Q4_0 (blocks of 32 4-bit values offset by 8 and an f16 scale), dequantized block by block in vector
 * registers as the rows stream past. Every kernel computes the same dequantized weight as
 * {@link Dequantizer} and feeds it to one FMA chain per (row, token) in column order.
 *
 * <p>NOTE: {@link Q8Matrix} and {@link Q4Matrix} repeat the same kernels on purpose: a shared kernel that
 * branches on the format parses into a graph past C2's inlining node limit, and vectors get boxed.
 */
final class Q4Matrix extends SegmentMatrix {

    private static final int BLOCK = 32;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Byte lanes per load: one per float lane, but at least the 64-bit shape the Vector API has. */
    private static final VectorSpecies<Byte> BYTE =
            VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, LANES * 8)));
    private static final int BYTE_LANES = BYTE.length();
    private static final int VECTORS_PER_BLOCK = BLOCK / LANES;

    private final int blocks;
    private final int blockBytes;

    Q4Matrix(WeightTensor t) {
        super(t, DType.Q4_0);
        this.blockBytes = dtype().bytesPerBlock();
        this.blocks = cols / BLOCK;
    }

    /**
     * Weights {@code [j, j + LANES)} of the block at byte offset {@code block}, as floats: value j < 16 is
     * the low nibble of byte j, value j >= 16 the high nibble of byte j - 16, both minus 8, times the block
     * scale. {@code j} is a multiple of LANES below 32.
     */
    private FloatVector weights(long block, int j, float d) {
        int byteIndex = j & 15;
        // NOTE: with fewer than 8 float lanes one 8-byte load serves two vectors (part 0 and 1).
        int part = (byteIndex % BYTE_LANES) / LANES;
        ByteVector q = ByteVector.fromMemorySegment(BYTE, data, block + 2 + byteIndex - part * LANES, LE);
        ByteVector nibbles = j < 16 ? q.and((byte) 0x0F) : q.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F);
        return ((FloatVector) nibbles.sub((byte) 8).convertShape(VectorOperators.B2F, FLOAT, part)).mul(d);
    }

    private float scale(long block) {
        return Dequantizer.f16ToFloat(data.get(SHORT_LE, block));
    }

    @Override
    boolean interleaveRowsForOneToken() {
        return true; // compute-bound dequantization: four FMA chains hide latency
    }

    @Override
    void dot4Rows(int r, float[] x, int xOff, float[] out, int outOff) {
        long b0 = rowOffset(r);
        long b1 = b0 + rowBytes;
        long b2 = b1 + rowBytes;
        long b3 = b2 + rowBytes;
        FloatVector a0 = FloatVector.zero(FLOAT);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int k = 0; k < blocks; k++) {
            long o = (long) k * blockBytes;
            float d0 = scale(b0 + o);
            float d1 = scale(b1 + o);
            float d2 = scale(b2 + o);
            float d3 = scale(b3 + o);
            for (int v = 0; v < VECTORS_PER_BLOCK; v++) {
                int j = v * LANES;
                FloatVector xv = FloatVector.fromArray(FLOAT, x, xOff + k * BLOCK + j);
                a0 = weights(b0 + o, j, d0).fma(xv, a0);
                a1 = weights(b1 + o, j, d1).fma(xv, a1);
                a2 = weights(b2 + o, j, d2).fma(xv, a2);
                a3 = weights(b3 + o, j, d3).fma(xv, a3);
            }
        }
        out[outOff + r] = Vectors.sum(a0);
        out[outOff + r + 1] = Vectors.sum(a1);
        out[outOff + r + 2] = Vectors.sum(a2);
        out[outOff + r + 3] = Vectors.sum(a3);
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
        for (int k = 0; k < blocks; k++) {
            long o = b + (long) k * blockBytes;
            float d = scale(o);
            for (int v = 0; v < VECTORS_PER_BLOCK; v++) {
                int c = k * BLOCK + v * LANES;
                FloatVector w = weights(o, v * LANES, d);
                a0 = w.fma(FloatVector.fromArray(FLOAT, x, xOff + c), a0);
                a1 = w.fma(FloatVector.fromArray(FLOAT, x, x1 + c), a1);
                a2 = w.fma(FloatVector.fromArray(FLOAT, x, x2 + c), a2);
                a3 = w.fma(FloatVector.fromArray(FLOAT, x, x3 + c), a3);
            }
        }
        out[outOff] = Vectors.sum(a0);
        out[outOff + rows] = Vectors.sum(a1);
        out[outOff + 2 * rows] = Vectors.sum(a2);
        out[outOff + 3 * rows] = Vectors.sum(a3);
    }

    @Override
    float dot(int r, float[] x, int xOff) {
        long b = rowOffset(r);
        FloatVector a = FloatVector.zero(FLOAT);
        for (int k = 0; k < blocks; k++) {
            long o = b + (long) k * blockBytes;
            float d = scale(o);
            for (int v = 0; v < VECTORS_PER_BLOCK; v++) {
                int j = v * LANES;
                a = weights(o, j, d).fma(FloatVector.fromArray(FLOAT, x, xOff + k * BLOCK + j), a);
            }
        }
        return Vectors.sum(a);
    }

    @Override
    public void dequantizeRow(int r, float[] dst, int off) {
        checkRow(r, dst, off);
        long b = rowOffset(r);
        for (int k = 0; k < blocks; k++) {
            long o = b + (long) k * blockBytes;
            float d = scale(o);
            for (int v = 0; v < VECTORS_PER_BLOCK; v++) {
                weights(o, v * LANES, d).intoArray(dst, off + k * BLOCK + v * LANES);
            }
        }
    }
}
