package dev.bulkhead.bench.serving;

/**
 * What a client saw of one streamed request: when it was sent and when each output token arrived, all in
 * {@link System#nanoTime()} units, and how it ended.
 *
 * @param requestId     the request
 * @param promptTokens  prompt length
 * @param maxTokens     tokens asked for
 * @param scheduledNanos when the trace wanted it sent (equal to {@code submitNanos} unless the driver lagged)
 * @param submitNanos   when it was handed to the engine
 * @param tokenNanos    arrival time of each output token, ascending
 * @param finishReason  the engine's finish reason, or null when it failed
 * @param error         why it failed, or null
 */
public record RequestTiming(String requestId, int promptTokens, int maxTokens, long scheduledNanos, long submitNanos,
                            long[] tokenNanos, String finishReason, String error) {

    private static final double NANOS_PER_MILLI = 1e6;

    public RequestTiming {
        if (promptTokens < 1) {
            throw new IllegalArgumentException("promptTokens must be >= 1, got " + promptTokens);
        }
        tokenNanos = tokenNanos.clone();
        for (int i = 1; i < tokenNanos.length; i++) {
            if (tokenNanos[i] < tokenNanos[i - 1]) {
                throw new IllegalArgumentException("tokenNanos must be ascending, index " + i + " is not");
            }
        }
    }

    @Override
    public long[] tokenNanos() {
        return tokenNanos.clone();
    }

    /** Output tokens received. */
    public int outputTokens() {
        return tokenNanos.length;
    }

    /** True when it finished without error and produced at least one token. */
    public boolean succeeded() {
        return error == null && tokenNanos.length > 0;
    }

    /** Time to first token: submission to the first token, in ms; NaN without tokens. */
    public double ttftMillis() {
        return tokenNanos.length == 0 ? Double.NaN : (tokenNanos[0] - submitNanos) / NANOS_PER_MILLI;
    }

    /** Time per output token after the first, {@code (last - first) / (n - 1)} in ms; NaN below 2 tokens. */
    public double tpotMillis() {
        int n = tokenNanos.length;
        return n < 2 ? Double.NaN : (tokenNanos[n - 1] - tokenNanos[0]) / NANOS_PER_MILLI / (n - 1);
    }

    /** Every gap between consecutive tokens, in ms (n - 1 values). */
    public double[] itlMillis() {
        int n = tokenNanos.length;
        double[] out = new double[Math.max(0, n - 1)];
        for (int i = 1; i < n; i++) {
            out[i - 1] = (tokenNanos[i] - tokenNanos[i - 1]) / NANOS_PER_MILLI;
        }
        return out;
    }

    /** End-to-end latency: submission to the last token, in ms; NaN without tokens. */
    public double e2eMillis() {
        return tokenNanos.length == 0 ? Double.NaN : (tokenNanos[tokenNanos.length - 1] - submitNanos) / NANOS_PER_MILLI;
    }

    /** Arrival of the first token; {@code Long.MIN_VALUE} without tokens. */
    public long firstTokenNanos() {
        return tokenNanos.length == 0 ? Long.MIN_VALUE : tokenNanos[0];
    }

    /** Arrival of the last token; {@code Long.MIN_VALUE} without tokens. */
    public long lastTokenNanos() {
        return tokenNanos.length == 0 ? Long.MIN_VALUE : tokenNanos[tokenNanos.length - 1];
    }
}
