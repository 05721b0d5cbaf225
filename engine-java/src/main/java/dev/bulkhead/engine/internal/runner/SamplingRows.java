package dev.bulkhead.engine.internal.runner;

import java.util.Arrays;

/**
 * What a runner that samples on its device ({@link DeviceSampler}) needs of one step's logit rows, in the order
 * of {@link BatchInput#logitIndices()}: whether each row is sampled there or handed back as logits, and for a
 * device row its parameters, its draw's key (the request's seed and step) and the distinct tokens its penalties
 * apply to. Filled by the engine every step and reused: nothing is allocated once it has grown to the largest step.
 */
public final class SamplingRows {

    private int rows;
    private boolean[] onDevice = new boolean[0];
    private float[] temperature = new float[0]; // 0 for greedy
    private int[] topK = new int[0];
    private float[] topP = new float[0];
    private float[] minP = new float[0];
    private float[] repetition = new float[0];
    private float[] frequency = new float[0];
    private float[] presence = new float[0];
    private long[] seed = new long[0];
    private long[] step = new long[0];
    private int[] penaltyStart = new int[1];    // (rows + 1) into penaltyIds / penaltyCounts
    private int[] penaltyIds = new int[0];      // distinct prompt and output tokens of each device row
    private int[] penaltyCounts = new int[0];   // each one's count in the output (0: in the prompt only)
    private int penalties;

    /** Starts a step of {@code n} logit rows. */
    public void start(int n) {
        if (onDevice.length < n) {
            int c = Math.max(n, onDevice.length * 2);
            onDevice = Arrays.copyOf(onDevice, c);
            temperature = Arrays.copyOf(temperature, c);
            topK = Arrays.copyOf(topK, c);
            topP = Arrays.copyOf(topP, c);
            minP = Arrays.copyOf(minP, c);
            repetition = Arrays.copyOf(repetition, c);
            frequency = Arrays.copyOf(frequency, c);
            presence = Arrays.copyOf(presence, c);
            seed = Arrays.copyOf(seed, c);
            step = Arrays.copyOf(step, c);
            penaltyStart = Arrays.copyOf(penaltyStart, c + 1);
        }
        rows = 0;
        penalties = 0;
        penaltyStart[0] = 0;
    }

    /** The next row is sampled on the host from its logits. */
    public void host() {
        onDevice[rows] = false;
        endRow();
    }

    /**
     * The next row is sampled on the device; follow with {@link #penalty} for each of its distinct tokens (when
     * a penalty is on), then {@link #endRow()}.
     */
    public void device(float temperature, int topK, float topP, float minP, float repetition, float frequency,
                       float presence, long seed, long step) {
        onDevice[rows] = true;
        this.temperature[rows] = temperature;
        this.topK[rows] = topK;
        this.topP[rows] = topP;
        this.minP[rows] = minP;
        this.repetition[rows] = repetition;
        this.frequency[rows] = frequency;
        this.presence[rows] = presence;
        this.seed[rows] = seed;
        this.step[rows] = step;
    }

    /** A distinct token of the current device row's prompt or output, with its count in the output. */
    public void penalty(int id, int outputCount) {
        if (penalties == penaltyIds.length) {
            int c = Math.max(64, penalties * 2);
            penaltyIds = Arrays.copyOf(penaltyIds, c);
            penaltyCounts = Arrays.copyOf(penaltyCounts, c);
        }
        penaltyIds[penalties] = id;
        penaltyCounts[penalties++] = outputCount;
    }

    /** Ends the current row (a device row after its penalties). */
    public void endRow() {
        penaltyStart[++rows] = penalties;
    }

    public int rows() {
        return rows;
    }

    public boolean onDevice(int row) {
        return onDevice[row];
    }

    public float temperature(int row) {
        return temperature[row];
    }

    public int topK(int row) {
        return topK[row];
    }

    public float topP(int row) {
        return topP[row];
    }

    public float minP(int row) {
        return minP[row];
    }

    public float repetition(int row) {
        return repetition[row];
    }

    public float frequency(int row) {
        return frequency[row];
    }

    public float presence(int row) {
        return presence[row];
    }

    public long seed(int row) {
        return seed[row];
    }

    public long step(int row) {
        return step[row];
    }

    /** Row {@code row}'s penalty entries are [penaltyStart(row), penaltyStart(row + 1)). */
    public int penaltyStart(int row) {
        return penaltyStart[row];
    }

    public int penaltyId(int entry) {
        return penaltyIds[entry];
    }

    public int penaltyCount(int entry) {
        return penaltyCounts[entry];
    }
}
