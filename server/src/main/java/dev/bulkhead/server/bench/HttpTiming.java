package dev.bulkhead.server.bench;

/**
 * What the client saw of one streamed HTTP request: when it was due and sent, when each content chunk
 * arrived ({@link System#nanoTime()} units), the token counts from the server's usage chunk, and how it ended.
 *
 * @param index          position in the trace
 * @param scheduledNanos when the trace wanted it sent
 * @param submitNanos    when it was sent (later than scheduled when the driver lagged or the concurrency cap held it)
 * @param endNanos       when the stream ended (or failed)
 * @param chunkNanos     arrival of each chunk that carried text, ascending
 * @param promptTokens   prompt tokens the server counted, or the trace's length when it sent no usage
 * @param outputTokens   completion tokens the server counted, or the number of text chunks when it sent no usage
 * @param error          why it failed, or null
 */
public record HttpTiming(int index, long scheduledNanos, long submitNanos, long endNanos, long[] chunkNanos,
                         int promptTokens, int outputTokens, String error) {

    private static final double NANOS_PER_MILLI = 1e6;

    public HttpTiming {
        chunkNanos = chunkNanos.clone();
    }

    @Override
    public long[] chunkNanos() {
        return chunkNanos.clone();
    }

    /** A request that failed before or during streaming. */
    public static HttpTiming failed(int index, long scheduledNanos, long submitNanos, String error) {
        return new HttpTiming(index, scheduledNanos, submitNanos, System.nanoTime(), new long[0], 0, 0, error);
    }

    /** True when it finished without error and streamed at least one chunk of text. */
    public boolean succeeded() {
        return error == null && chunkNanos.length > 0;
    }

    /** Time to first token: send to the first text chunk, in ms; NaN without chunks. */
    public double ttftMillis() {
        return chunkNanos.length == 0 ? Double.NaN : (chunkNanos[0] - submitNanos) / NANOS_PER_MILLI;
    }

    /**
     * Time per output token after the first, {@code (last chunk - first chunk) / (outputTokens - 1)} in ms, as
     * vLLM's benchmark computes it; NaN below 2 tokens.
     */
    public double tpotMillis() {
        int n = chunkNanos.length;
        return n == 0 || outputTokens < 2 ? Double.NaN
                : (chunkNanos[n - 1] - chunkNanos[0]) / NANOS_PER_MILLI / (outputTokens - 1);
    }

    /** Every gap between consecutive text chunks, in ms. */
    public double[] itlMillis() {
        int n = chunkNanos.length;
        double[] out = new double[Math.max(0, n - 1)];
        for (int i = 1; i < n; i++) {
            out[i - 1] = (chunkNanos[i] - chunkNanos[i - 1]) / NANOS_PER_MILLI;
        }
        return out;
    }

    /** End-to-end latency: send to the end of the stream, in ms. */
    public double e2eMillis() {
        return (endNanos - submitNanos) / NANOS_PER_MILLI;
    }
}
