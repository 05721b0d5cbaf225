package dev.bulkhead.server.bench;

import java.util.Arrays;

/**
 * Summary of a latency sample in milliseconds: count, mean, extremes and the p50/p90/p99 percentiles that
 * serving benchmarks (vLLM's {@code benchmark_serving}, and this one) report.
 *
 * @param count how many values; every other field is NaN when it is 0
 * @param mean  arithmetic mean
 * @param min   smallest value
 * @param p50   median
 * @param p90   90th percentile
 * @param p99   99th percentile
 * @param max   largest value
 */
public record LatencyStats(int count, double mean, double min, double p50, double p90, double p99, double max) {

    public LatencyStats {
        if (count < 0) {
            throw new IllegalArgumentException("count must be >= 0, got " + count);
        }
    }

    /** Statistics of {@code values} (not modified); NaN values are rejected since they hide a bug. */
    public static LatencyStats of(double[] values) {
        if (values.length == 0) {
            return new LatencyStats(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        if (Double.isNaN(sorted[sorted.length - 1])) {
            throw new IllegalArgumentException("latency values must not be NaN");
        }
        double sum = 0;
        for (double v : sorted) {
            sum += v;
        }
        return new LatencyStats(sorted.length, sum / sorted.length, sorted[0], percentile(sorted, 50),
                percentile(sorted, 90), percentile(sorted, 99), sorted[sorted.length - 1]);
    }

    /**
     * The {@code p}-th percentile of ascending {@code sorted} values, interpolated linearly between the two
     * closest ranks (numpy's default, which vLLM's benchmark uses): rank {@code p/100 * (n-1)}.
     */
    public static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            throw new IllegalArgumentException("percentile of an empty sample is undefined");
        }
        if (!(p >= 0 && p <= 100)) {
            throw new IllegalArgumentException("percentile p must be in [0, 100], got " + p);
        }
        double rank = p / 100 * (sorted.length - 1);
        int lo = (int) Math.floor(rank);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (rank - lo) * (sorted[hi] - sorted[lo]);
    }
}
