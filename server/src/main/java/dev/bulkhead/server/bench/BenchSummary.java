package dev.bulkhead.server.bench;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;

/**
 * The headline numbers of one HTTP benchmark run, as vLLM's {@code benchmark_serving} reports them.
 * Latencies count only requests that succeeded; TPOT only those with at least two output tokens.
 *
 * @param numRequests           requests in the trace
 * @param completed             requests that streamed output without error
 * @param errors                requests that failed
 * @param durationSeconds       run start to the end of the last stream
 * @param requestThroughput     completed requests per second of duration
 * @param outputTokensPerSecond output tokens per second of duration
 * @param promptTokens          prompt tokens of completed requests
 * @param outputTokens          output tokens of completed requests
 * @param ttft                  time to first token, ms
 * @param tpot                  time per output token after the first, ms
 * @param itl                   inter-token (chunk) latency, ms
 * @param e2e                   end-to-end latency, ms
 * @param firstError            one error message, or null when none failed
 */
public record BenchSummary(int numRequests, int completed, int errors, double durationSeconds,
                           double requestThroughput, double outputTokensPerSecond, long promptTokens,
                           long outputTokens, LatencyStats ttft, LatencyStats tpot, LatencyStats itl,
                           LatencyStats e2e, String firstError) {

    /** Summarizes {@code requests} of a run that started at {@code startNanos}. */
    public static BenchSummary of(long startNanos, List<HttpTiming> requests) {
        List<HttpTiming> ok = requests.stream().filter(HttpTiming::succeeded).toList();
        long end = requests.stream().mapToLong(HttpTiming::endNanos).max().orElse(startNanos);
        double seconds = Math.max(1e-9, (end - startNanos) / 1e9);
        long prompt = ok.stream().mapToLong(HttpTiming::promptTokens).sum();
        long output = ok.stream().mapToLong(HttpTiming::outputTokens).sum();
        double[] ttft = ok.stream().mapToDouble(HttpTiming::ttftMillis).toArray();
        double[] tpot = ok.stream().filter(r -> r.outputTokens() >= 2).mapToDouble(HttpTiming::tpotMillis).toArray();
        double[] itl = ok.stream().flatMapToDouble(r -> Arrays.stream(r.itlMillis())).toArray();
        double[] e2e = ok.stream().mapToDouble(HttpTiming::e2eMillis).toArray();
        String firstError = requests.stream().map(HttpTiming::error).filter(e -> e != null).findFirst().orElse(null);
        return new BenchSummary(requests.size(), ok.size(), requests.size() - ok.size(), seconds, ok.size() / seconds,
                output / seconds, prompt, output, LatencyStats.of(ttft), LatencyStats.of(tpot), LatencyStats.of(itl),
                LatencyStats.of(e2e), firstError);
    }

    /** Prints the summary table. */
    public void print(PrintWriter out) {
        out.printf("completed %d of %d, errors %d, duration %.2f s%n", completed, numRequests, errors, durationSeconds);
        if (firstError != null) {
            out.println("first error: " + firstError);
        }
        out.printf("request throughput %10.2f req/s%n", requestThroughput);
        out.printf("output throughput  %10.1f tok/s%n", outputTokensPerSecond);
        out.printf("tokens             %10d prompt, %d output%n", promptTokens, outputTokens);
        out.printf("%-8s %10s %10s %10s %10s%n", "ms", "mean", "p50", "p90", "p99");
        row(out, "TTFT", ttft);
        row(out, "TPOT", tpot);
        row(out, "ITL", itl);
        row(out, "E2E", e2e);
        out.flush();
    }

    private static void row(PrintWriter out, String name, LatencyStats s) {
        out.printf("%-8s %10.2f %10.2f %10.2f %10.2f%n", name, s.mean(), s.p50(), s.p90(), s.p99());
    }
}
