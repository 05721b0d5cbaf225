package dev.bulkhead.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.bulkhead.server.bench.BenchSummary;
import dev.bulkhead.server.bench.HttpBench;
import dev.bulkhead.server.bench.LengthDistribution;
import dev.bulkhead.server.bench.TraceGenerator;
import dev.bulkhead.server.bench.TraceRequest;
import dev.bulkhead.server.bench.WordPrompts;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bulkhead bench}: the serving benchmark against a running server. Replays a seeded trace (Poisson
 * arrivals, ShareGPT-like log-normal lengths) over the streaming OpenAI API and reports TTFT, TPOT, ITL and
 * end-to-end latency percentiles and throughput, like vLLM's {@code benchmark_serving}.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmark a running OpenAI-compatible server with a seeded trace (TTFT, TPOT, ITL, E2E, tok/s).")
final class BenchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--url", defaultValue = "http://127.0.0.1:8000", description = "server base URL (default ${DEFAULT-VALUE})")
    String url;

    @Option(names = "--model", required = true, description = "model name sent in every request")
    String model;

    @Option(names = "--api-key", description = "bearer token (default: $BULKHEAD_API_KEY, if set)")
    String apiKey;

    @Option(names = "--endpoint", defaultValue = "completions", description = "completions or chat (default ${DEFAULT-VALUE})")
    String endpoint;

    @Option(names = "--rate", defaultValue = "2", description = "requests per second, Poisson arrivals; inf sends all at once (default ${DEFAULT-VALUE})")
    String rate;

    @Option(names = "--requests", defaultValue = "50", description = "requests in the trace (default ${DEFAULT-VALUE})")
    int requests;

    @Option(names = "--seed", defaultValue = "1", description = "trace and prompt seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--max-concurrency", defaultValue = "64", description = "most requests in flight (default ${DEFAULT-VALUE})")
    int maxConcurrency;

    @Option(names = "--prompt-median", defaultValue = "64", description = "median prompt tokens (default ${DEFAULT-VALUE})")
    double promptMedian;

    @Option(names = "--prompt-sigma", defaultValue = "1.0", description = "sigma of log prompt length (default ${DEFAULT-VALUE})")
    double promptSigma;

    @Option(names = "--output-median", defaultValue = "48", description = "median output tokens (default ${DEFAULT-VALUE})")
    double outputMedian;

    @Option(names = "--output-sigma", defaultValue = "0.8", description = "sigma of log output length (default ${DEFAULT-VALUE})")
    double outputSigma;

    @Option(names = "--min-len", defaultValue = "4", description = "shortest prompt and output (default ${DEFAULT-VALUE})")
    int minLen;

    @Option(names = "--max-prompt", defaultValue = "512", description = "longest prompt (default ${DEFAULT-VALUE})")
    int maxPrompt;

    @Option(names = "--max-output", defaultValue = "256", description = "longest output (default ${DEFAULT-VALUE})")
    int maxOutput;

    @Option(names = "--max-model-len", defaultValue = "1024",
            description = "prompt + output never exceed this; keep it below the server's context, prompt lengths are approximate (default ${DEFAULT-VALUE})")
    int maxModelLen;

    @Option(names = "--timeout-s", defaultValue = "600", description = "per-request limit in seconds (default ${DEFAULT-VALUE})")
    long timeoutSeconds;

    @Option(names = "--out", paramLabel = "FILE.json", description = "write the configuration, summary and per-request numbers as JSON")
    Path out;

    @Override
    public Integer call() throws Exception {
        double requestRate = parseRate(rate);
        HttpBench.Endpoint ep = switch (endpoint.toLowerCase(Locale.ROOT)) {
            case "completions" -> HttpBench.Endpoint.COMPLETIONS;
            case "chat" -> HttpBench.Endpoint.CHAT;
            default -> throw new IllegalArgumentException("--endpoint must be completions or chat, got " + endpoint);
        };
        String key = apiKey != null ? apiKey : System.getenv("BULKHEAD_API_KEY");
        HttpBench.Target target = new HttpBench.Target(url, model, key, ep, maxConcurrency,
                Duration.ofSeconds(timeoutSeconds));
        TraceGenerator generator = new TraceGenerator(requestRate, requests,
                new LengthDistribution(promptMedian, promptSigma, minLen, Math.min(maxPrompt, maxModelLen - 1)),
                new LengthDistribution(outputMedian, outputSigma, minLen, Math.min(maxOutput, maxModelLen - 1)), maxModelLen);
        List<TraceRequest> trace = generator.generate(seed);

        PrintWriter o = spec.commandLine().getOut();
        o.printf("bulkhead bench: %d requests at %s req/s (seed %d, max concurrency %d) -> %s %s, model %s%n",
                requests, Double.isInfinite(requestRate) ? "inf" : rate, seed, maxConcurrency, target.baseUrl(),
                ep.name().toLowerCase(Locale.ROOT), model);
        o.flush();
        HttpBench.Result result = new HttpBench(target).run(trace, new WordPrompts(seed));
        BenchSummary summary = result.summary();
        summary.print(o);
        if (out != null) {
            writeJson(target, requestRate, result, summary);
            o.println("wrote " + out);
            o.flush();
        }
        return summary.completed() > 0 ? 0 : 1;
    }

    private void writeJson(HttpBench.Target target, double requestRate, HttpBench.Result result, BenchSummary summary)
            throws Exception {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("url", target.baseUrl());
        config.put("endpoint", endpoint);
        config.put("model", model);
        config.put("request_rate", Double.isInfinite(requestRate) ? "inf" : requestRate);
        config.put("requests", requests);
        config.put("seed", seed);
        config.put("max_concurrency", maxConcurrency);
        config.put("prompt_median", promptMedian);
        config.put("prompt_sigma", promptSigma);
        config.put("output_median", outputMedian);
        config.put("output_sigma", outputSigma);
        config.put("max_model_len", maxModelLen);
        List<Map<String, Object>> perRequest = result.requests().stream().map(r -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("index", r.index());
            m.put("prompt_tokens", r.promptTokens());
            m.put("output_tokens", r.outputTokens());
            m.put("ttft_ms", r.ttftMillis());
            m.put("tpot_ms", r.tpotMillis());
            m.put("e2e_ms", r.e2eMillis());
            m.put("submit_lag_ms", (r.submitNanos() - r.scheduledNanos()) / 1e6);
            m.put("error", r.error());
            return m;
        }).toList();
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("config", config);
        root.put("summary", summary);
        root.put("requests", perRequest);
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.toFile(), root);
    }

    /** A positive request rate, or {@code inf} (also {@code infinity}) for everything at time 0. */
    static double parseRate(String s) {
        String v = s.trim().toLowerCase(Locale.ROOT);
        if (v.equals("inf") || v.equals("infinity")) {
            return Double.POSITIVE_INFINITY;
        }
        double r;
        try {
            r = Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--rate must be a number or inf, got " + s);
        }
        if (!(r > 0) || Double.isInfinite(r)) {
            throw new IllegalArgumentException("--rate must be > 0, got " + s);
        }
        return r;
    }
}
