package dev.bulkhead.engine.internal.cpu;

/**
 * Precomputed rotary embedding angles: {@code cos} and {@code sin} of {@code pos * invFreq[i]} for every
 * position below {@link #maxPositions()} and every frequency, as floats ({@code [maxPositions, rotaryDim/2]}).
 *
 * <p>NOTE: like transformers, the angle is the float product of the position and the float inverse
 * frequency (its {@code inv_freq} buffer is fp32 and {@code freqs = inv_freq @ position_ids} runs in fp32);
 * only the cosine and sine of that float angle are taken in double and rounded, which is within an ulp of
 * PyTorch's fp32 {@code cos}/{@code sin}.
 */
public final class RopeTable {

    private final int maxPositions;
    private final int half;
    private final float[] cos; // (maxPositions, half)
    private final float[] sin; // (maxPositions, half)

    /**
     * @param invFreq      inverse frequency of each rotated pair, already scaled (rope_scaling applied);
     *                     its length is half the rotary dimension
     * @param maxPositions number of positions to precompute, at least 1
     */
    public RopeTable(double[] invFreq, int maxPositions) {
        if (invFreq.length == 0) {
            throw new IllegalArgumentException("invFreq must not be empty");
        }
        if (maxPositions < 1) {
            throw new IllegalArgumentException("maxPositions must be >= 1, got " + maxPositions);
        }
        if ((long) maxPositions * invFreq.length > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("maxPositions * invFreq.length must fit an array, got "
                    + maxPositions + " * " + invFreq.length);
        }
        this.maxPositions = maxPositions;
        this.half = invFreq.length;
        this.cos = new float[maxPositions * half];
        this.sin = new float[maxPositions * half];
        for (int i = 0; i < half; i++) {
            float f = (float) invFreq[i];
            for (int pos = 0; pos < maxPositions; pos++) {
                float angle = pos * f;
                cos[pos * half + i] = (float) Math.cos(angle);
                sin[pos * half + i] = (float) Math.sin(angle);
            }
        }
    }

    /** Positions covered: [0, maxPositions). */
    public int maxPositions() {
        return maxPositions;
    }

    /** Dimensions rotated per head: twice the number of frequencies. */
    public int rotaryDim() {
        return 2 * half;
    }

    /** cos of the angle of pair {@code i} at {@code pos}. */
    public float cos(int pos, int i) {
        return cos[index(pos, i)];
    }

    /** sin of the angle of pair {@code i} at {@code pos}. */
    public float sin(int pos, int i) {
        return sin[index(pos, i)];
    }

    float[] cosTable() {
        return cos;
    }

    float[] sinTable() {
        return sin;
    }

    /** Offset of position {@code pos}'s row in {@link #cosTable()} and {@link #sinTable()}. */
    int rowOffset(int pos) {
        if (pos < 0 || pos >= maxPositions) {
            throw new IndexOutOfBoundsException("position " + pos + " outside the RoPE table of " + maxPositions);
        }
        return pos * half;
    }

    private int index(int pos, int i) {
        if (i < 0 || i >= half) {
            throw new IndexOutOfBoundsException("pair " + i + " outside [0, " + half + ")");
        }
        return rowOffset(pos) + i;
    }
}
