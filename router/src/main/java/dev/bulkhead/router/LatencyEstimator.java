package dev.bulkhead.router;

/**
 * One model's expected request latency: an exponentially weighted moving average of time per generated token
 * (queueing included), fed by finished attempts and by readiness probes (one token each), so the estimate
 * keeps tracking a model that gets no traffic because it was estimated too slow.
 */
final class LatencyEstimator {

    private static final double ALPHA = 0.3;
    private double nanosPerToken = Double.NaN;

    synchronized void observe(long nanos, int tokens) {
        double x = (double) nanos / Math.max(1, tokens);
        nanosPerToken = Double.isNaN(nanosPerToken) ? x : nanosPerToken + ALPHA * (x - nanosPerToken);
    }

    synchronized void reset() {
        nanosPerToken = Double.NaN;
    }

    /**
     * Nanoseconds a request of {@code maxTokens} is expected to take with {@code inFlight} others in a batch of
     * at most {@code maxRunning}: one wave per {@code maxRunning} requests ahead of it, prefill as one token.
     * Zero before anything was observed.
     */
    synchronized long estimateNanos(int maxTokens, int inFlight, int maxRunning) {
        if (Double.isNaN(nanosPerToken)) {
            return 0;
        }
        int waves = 1 + inFlight / Math.max(1, maxRunning);
        return (long) (nanosPerToken * (maxTokens + 1) * waves);
    }
}
