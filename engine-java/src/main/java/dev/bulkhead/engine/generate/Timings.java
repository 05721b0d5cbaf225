package dev.bulkhead.engine.generate;

/**
 * Where one generation spent its time.
 *
 * @param prefillTokens  prompt tokens run through the model
 * @param prefillMillis  wall time of the prompt's forward passes and the first sample
 * @param decodeTokens   tokens produced by single-token decode steps (every generated token but the first)
 * @param decodeMillis   wall time of those steps
 */
public record Timings(int prefillTokens, double prefillMillis, int decodeTokens, double decodeMillis) {

    public double prefillTokensPerSecond() {
        return prefillMillis > 0 ? prefillTokens * 1000.0 / prefillMillis : 0;
    }

    public double decodeTokensPerSecond() {
        return decodeMillis > 0 ? decodeTokens * 1000.0 / decodeMillis : 0;
    }
}
