package dev.bulkhead.bench.serving;

import java.util.List;

/**
 * One batch of {@code concurrency} requests submitted at once, measured from the client's side.
 *
 * @param concurrency          requests in flight together
 * @param outputTokens         tokens generated over all requests
 * @param wallSeconds          first submission to the last token of any request
 * @param totalTokensPerSecond {@code outputTokens / wallSeconds}: prefill included
 * @param decodeTokens         tokens that arrived while every request was past its first token and none had
 *                             finished: the steady state where each step decodes the whole batch
 * @param decodeSeconds        length of that window
 * @param decodeTokensPerSecond {@code decodeTokens / decodeSeconds}, the batched decode rate; NaN without a window
 * @param meanTtftMillis       mean time to first token
 * @param meanTpotMillis       mean time per output token after the first
 * @param engineSteps          forward passes the engine ran for this batch
 */
public record ThroughputRun(int concurrency, long outputTokens, double wallSeconds, double totalTokensPerSecond,
                            long decodeTokens, double decodeSeconds, double decodeTokensPerSecond,
                            double meanTtftMillis, double meanTpotMillis, long engineSteps) {

    /** Measures a finished batch from its recordings; every request must have succeeded. */
    public static ThroughputRun of(List<RequestTiming> requests, long engineSteps) {
        if (requests.isEmpty()) {
            throw new IllegalArgumentException("requests must not be empty");
        }
        for (RequestTiming r : requests) {
            if (!r.succeeded()) {
                throw new IllegalArgumentException("request " + r.requestId() + " failed: " + r.error());
            }
        }
        long start = requests.stream().mapToLong(RequestTiming::submitNanos).min().orElseThrow();
        long end = requests.stream().mapToLong(RequestTiming::lastTokenNanos).max().orElseThrow();
        long tokens = requests.stream().mapToLong(RequestTiming::outputTokens).sum();
        double wall = (end - start) / 1e9;
        // NOTE: the window opens when the last request gets its first token (all prefills done) and closes when
        // the first request finishes, so each step inside it decodes exactly `concurrency` sequences.
        long windowStart = requests.stream().mapToLong(RequestTiming::firstTokenNanos).max().orElseThrow();
        long windowEnd = requests.stream().mapToLong(RequestTiming::lastTokenNanos).min().orElseThrow();
        long decodeTokens = 0;
        if (windowEnd > windowStart) {
            for (RequestTiming r : requests) {
                for (long t : r.tokenNanos()) {
                    if (t > windowStart && t <= windowEnd) {
                        decodeTokens++;
                    }
                }
            }
        }
        double decodeSeconds = Math.max(0, (windowEnd - windowStart) / 1e9);
        double meanTtft = requests.stream().mapToDouble(RequestTiming::ttftMillis).average().orElseThrow();
        double meanTpot = requests.stream().filter(r -> r.outputTokens() >= 2).mapToDouble(RequestTiming::tpotMillis)
                .average().orElse(Double.NaN);
        return new ThroughputRun(requests.size(), tokens, wall, tokens / Math.max(wall, 1e-9), decodeTokens,
                decodeSeconds, decodeSeconds > 0 ? decodeTokens / decodeSeconds : Double.NaN, meanTtft, meanTpot,
                engineSteps);
    }
}
