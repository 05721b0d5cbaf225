package dev.bulkhead.model.config;

/**
 * RoPE frequency scaling. {@code NONE} keeps the base frequencies; {@code LLAMA3} is Llama 3.1's
 * wavelength-dependent scaling; {@code LINEAR} divides every frequency by {@code factor}.
 */
public record RopeScaling(Type type, double factor, double lowFreqFactor, double highFreqFactor,
                          int originalMaxPositionEmbeddings) {

    public enum Type { NONE, LINEAR, LLAMA3 }

    public static final RopeScaling NONE = new RopeScaling(Type.NONE, 1, 1, 1, 0);

    public RopeScaling {
        if (type == null) {
            throw new IllegalArgumentException("rope_scaling.type must be set");
        }
        if (!(factor > 0)) {
            throw new IllegalArgumentException("rope_scaling.factor must be > 0, got " + factor);
        }
        if (type == Type.LLAMA3) {
            if (!(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor)) {
                throw new IllegalArgumentException("rope_scaling: need 0 < low_freq_factor < high_freq_factor, got "
                        + lowFreqFactor + " and " + highFreqFactor);
            }
            if (originalMaxPositionEmbeddings <= 0) {
                throw new IllegalArgumentException("rope_scaling.original_max_position_embeddings must be > 0");
            }
        }
    }

    public static RopeScaling llama3(double factor, double low, double high, int originalMax) {
        return new RopeScaling(Type.LLAMA3, factor, low, high, originalMax);
    }

    /**
     * Inverse frequencies, one per rotated pair: {@code theta^(-2i/rotaryDim)} adjusted by the scaling,
     * computed the way transformers' {@code _compute_llama3_parameters} does.
     */
    public double[] inverseFrequencies(double theta, int rotaryDim) {
        double[] inv = new double[rotaryDim / 2];
        for (int i = 0; i < inv.length; i++) {
            double f = 1.0 / Math.pow(theta, (2.0 * i) / rotaryDim);
            inv[i] = switch (type) {
                case NONE -> f;
                case LINEAR -> f / factor;
                case LLAMA3 -> llama3Scaled(f);
            };
        }
        return inv;
    }

    private double llama3Scaled(double freq) {
        double lowFreqWavelen = originalMaxPositionEmbeddings / lowFreqFactor;
        double highFreqWavelen = originalMaxPositionEmbeddings / highFreqFactor;
        double wavelen = 2 * Math.PI / freq;
        if (wavelen < highFreqWavelen) {
            return freq;
        }
        if (wavelen > lowFreqWavelen) {
            return freq / factor;
        }
        double smooth = (originalMaxPositionEmbeddings / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        return (1 - smooth) * freq / factor + smooth * freq;
    }
}
