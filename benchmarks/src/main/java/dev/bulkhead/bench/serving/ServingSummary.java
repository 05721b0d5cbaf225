package dev.bulkhead.bench.serving;

import dev.bulkhead.server.bench.LatencyStats;
import java.util.Arrays;
import java.util.List;

/**
 * The headline numbers of one replay, as vLLM's {@code benchmark_serving} reports them. Latencies only count
 * requests that succeeded; TPOT only those with at least two tokens.
 *
 * @param numRequests           requests in the trace
 * @param completed             requests that finished with output
 * @param failed                requests refused or failed
 * @param durationSeconds       replay start to the last token of any request
 * @param requestThroughput     completed requests per second of duration
 * @param outputTokensPerSecond output tokens per second of duration
 * @param totalTokensPerSecond  prompt plus output tokens per second of duration
 * @param promptTokens          prompt tokens of completed requests
 * @param outputTokens          output tokens received
 * @param maxSubmitLagMillis    worst delay of a submission past its scheduled arrival (driver health)
 * @param ttft                  time to first token, ms
 * @param tpot                  time per output token after the first, ms (one value per request)
 * @param itl                   inter-token latency, ms (one value per token gap)
 * @param e2e                   end-to-end latency, ms
 */
public record ServingSummary(int numRequests, int completed, int failed, double durationSeconds,
                             double requestThroughput, double outputTokensPerSecond, double totalTokensPerSecond,
                             long promptTokens, long outputTokens, double maxSubmitLagMillis, LatencyStats ttft,
                             LatencyStats tpot, LatencyStats itl, LatencyStats e2e) {

    /** Summarizes {@code requests} of a replay that started at {@code startNanos}. */
    public static ServingSummary of(long startNanos, List<RequestTiming> requests) {
        List<RequestTiming> ok = requests.stream().filter(RequestTiming::succeeded).toList();
        long end = ok.stream().mapToLong(RequestTiming::lastTokenNanos).max().orElse(startNanos);
        double seconds = Math.max(1e-9, (end - startNanos) / 1e9);
        long prompt = ok.stream().mapToLong(RequestTiming::promptTokens).sum();
        long output = ok.stream().mapToLong(RequestTiming::outputTokens).sum();
        double lag = requests.stream().mapToDouble(r -> (r.submitNanos() - r.scheduledNanos()) / 1e6).max().orElse(0);
        double[] ttft = ok.stream().mapToDouble(RequestTiming::ttftMillis).toArray();
        double[] tpot = ok.stream().filter(r -> r.outputTokens() >= 2).mapToDouble(RequestTiming::tpotMillis).toArray();
        double[] itl = ok.stream().flatMapToDouble(r -> Arrays.stream(r.itlMillis())).toArray();
        double[] e2e = ok.stream().mapToDouble(RequestTiming::e2eMillis).toArray();
        return new ServingSummary(requests.size(), ok.size(), requests.size() - ok.size(), seconds,
                ok.size() / seconds, output / seconds, (prompt + output) / seconds, prompt, output, Math.max(0, lag),
                LatencyStats.of(ttft), LatencyStats.of(tpot), LatencyStats.of(itl), LatencyStats.of(e2e));
    }
}
