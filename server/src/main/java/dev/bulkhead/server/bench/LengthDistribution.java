package dev.bulkhead.server.bench;

import java.util.random.RandomGenerator;

/**
 * A log-normal token-length distribution clipped to {@code [min, max]}: the shape of ShareGPT's prompt and
 * completion lengths (a long right tail over a median of a few hundred tokens), scaled by its median.
 *
 * @param median median length before clipping, {@code exp(mu)}
 * @param sigma  standard deviation of the log length; ShareGPT fits are near 1
 * @param min    smallest length drawn, >= 1
 * @param max    largest length drawn, >= min
 */
public record LengthDistribution(double median, double sigma, int min, int max) {

    public LengthDistribution {
        if (!(median >= 1) || Double.isInfinite(median)) {
            throw new IllegalArgumentException("median must be finite and >= 1, got " + median);
        }
        if (!(sigma >= 0 && sigma <= 4)) {
            throw new IllegalArgumentException("sigma must be in [0, 4], got " + sigma);
        }
        if (min < 1) {
            throw new IllegalArgumentException("min must be >= 1, got " + min);
        }
        if (max < min) {
            throw new IllegalArgumentException("max must be >= min " + min + ", got " + max);
        }
    }

    /** One length, rounded to the nearest token and clipped. */
    public int sample(RandomGenerator rng) {
        double v = median * Math.exp(sigma * rng.nextGaussian());
        return (int) Math.max(min, Math.min(max, Math.round(v)));
    }

    /** The mean of the unclipped distribution, {@code median * exp(sigma^2 / 2)}. */
    public double unclippedMean() {
        return median * Math.exp(sigma * sigma / 2);
    }
}
