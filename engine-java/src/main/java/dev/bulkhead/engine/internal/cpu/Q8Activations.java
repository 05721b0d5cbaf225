package dev.bulkhead.engine.internal.cpu;

import static dev.bulkhead.engine.internal.cpu.Vectors.FLOAT;
import static dev.bulkhead.engine.internal.cpu.Vectors.INT;
import static dev.bulkhead.engine.internal.cpu.Vectors.LANES;
import static dev.bulkhead.engine.internal.cpu.Vectors.SHORT;

import java.util.Arrays;
import java.util.Objects;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Activations {@code (tokens, cols)} quantized the way ggml's {@code quantize_row_q8_0} does, so the
 * quantized weight matrices can take integer dot products: per block of 32 values one float scale
 * {@code d = max|x| / 127} and 32 integers {@code q = round(x / d)} in [-127, 127], kept in 16-bit lanes
 * ready for 16-bit products. Unlike ggml the scale stays a float (ggml rounds it to f16), which only makes
 * the activations more exact.
 *
 * <p>Each token is quantized on its own, so a token's values do not depend on the batch (the CPU backend
 * stays batch invariant). Every quantized activation is within {@code d / 2} of its float, except blocks
 * whose largest magnitude is below {@code 127 * Float.MIN_NORMAL}, which become zeros.
 */
final class Q8Activations {

    static final int BLOCK = 32;
    /** 1.5 * 2^23: added to |v| < 2^22 it leaves round-half-even(v) in the low mantissa bits. */
    private static final float ROUNDER = 0x1.8p23f;
    private static final int ROUNDER_BITS = Float.floatToRawIntBits(ROUNDER);

    final int tokens;
    final int cols;
    final int blocksPerToken;
    final short[] q;          // (tokens, cols) integers in [-127, 127]
    final float[] scale;      // (tokens, cols / 32) x ~ scale * q
    final float[] scaledSum;  // (tokens, cols / 32) scale * (sum of the block's q), for offsets and minimums
    /**
     * (tokens, cols) the integers of {@link #q} as floats, each block in the kernels' lane order
     * ({@link IntDot#storeLaneOrdered}), for the
     * float tiles of {@link QuantizedMatrix}; null below {@link QuantizedMatrix#TILE_MIN_TOKENS} tokens.
     */
    final float[] laneOrdered;

    private Q8Activations(int tokens, int cols) {
        if (tokens < 1 || cols < 1 || cols % BLOCK != 0) {
            throw new IllegalArgumentException("cannot quantize " + tokens + " x " + cols
                    + " activations: need tokens >= 1 and cols a positive multiple of " + BLOCK);
        }
        this.tokens = tokens;
        this.cols = cols;
        this.blocksPerToken = cols / BLOCK;
        this.q = new short[Math.multiplyExact(tokens, cols)];
        this.scale = new float[tokens * blocksPerToken];
        this.scaledSum = new float[tokens * blocksPerToken];
        this.laneOrdered = tokens >= QuantizedMatrix.TILE_MIN_TOKENS ? new float[tokens * cols] : null;
    }

    /** The first {@code tokens} rows of {@code x}, quantized on the calling thread. */
    static Q8Activations quantize(float[] x, int tokens, int cols) {
        Q8Activations a = new Q8Activations(tokens, cols);
        Objects.checkFromIndexSize(0, (long) tokens * cols, x.length);
        for (int t = 0; t < tokens; t++) {
            a.quantizeToken(x, t);
        }
        return a;
    }

    /**
     * The same as {@link #quantize(float[], int, int)}, tokens split over {@code pool} (a prefill chunk has
     * enough of them to pay for the hand-off; one token runs on the caller).
     */
    static Q8Activations quantize(CpuThreadPool pool, float[] x, int tokens, int cols) {
        Q8Activations a = new Q8Activations(tokens, cols);
        Objects.checkFromIndexSize(0, (long) tokens * cols, x.length);
        pool.parallelFor(tokens, 1, (start, end) -> {
            for (int t = start; t < end; t++) {
                a.quantizeToken(x, t);
            }
        });
        return a;
    }

    private void quantizeToken(float[] x, int t) {
        for (int k = 0; k < blocksPerToken; k++) {
            quantizeBlock(x, t * cols + k * BLOCK, t * blocksPerToken + k);
        }
        if (laneOrdered != null) {
            for (int c = t * cols; c < (t + 1) * cols; c += BLOCK) {
                for (int j = 0; j < BLOCK; j += IntDot.SL) {
                    ShortVector chunk = ShortVector.fromArray(IntDot.SHORT, q, c + j);
                    IntDot.storeLaneOrdered(chunk, laneOrdered, c, j / IntDot.SL);
                }
            }
        }
    }

    /** NOTE: LANES (at most 16, a power of two) divides 32, so a block has no scalar tail. */
    private void quantizeBlock(float[] x, int off, int block) {
        FloatVector amax = FloatVector.zero(FLOAT);
        for (int i = 0; i < BLOCK; i += LANES) {
            amax = amax.max(FloatVector.fromArray(FLOAT, x, off + i).abs());
        }
        // NOTE: max is exact and a NaN wins, so the lane order does not matter and a NaN input makes the
        // scale NaN, which then carries into every product of the block instead of vanishing.
        float d = amax.reduceLanes(VectorOperators.MAX) / 127f;
        if (d < Float.MIN_NORMAL) {
            // NOTE: all zeros, or values below 127 * Float.MIN_NORMAL (~1.5e-36) where a subnormal d is too
            // coarse to keep |x / d| <= 127: flushed to zero. A NaN d is not below anything and stays.
            Arrays.fill(q, off, off + BLOCK, (short) 0);
            scale[block] = 0f;
            scaledSum[block] = 0f;
            return;
        }
        IntVector sum = IntVector.zero(INT);
        for (int i = 0; i < BLOCK; i += LANES) {
            // NOTE: x / d, not x * (1 / d) as ggml: 1 / d overflows for subnormal d, and |x / d| <= 127.5
            // holds for every x of the block. The divisions cost well under 1% of a matrix product.
            FloatVector v = FloatVector.fromArray(FLOAT, x, off + i).div(d);
            IntVector qi = v.add(ROUNDER).reinterpretAsInts().sub(ROUNDER_BITS);
            sum = sum.add(qi);
            ((ShortVector) qi.convertShape(VectorOperators.I2S, SHORT, 0)).intoArray(q, off + i);
        }
        scale[block] = d;
        scaledSum[block] = d * sum.reduceLanes(VectorOperators.ADD);
    }
}
