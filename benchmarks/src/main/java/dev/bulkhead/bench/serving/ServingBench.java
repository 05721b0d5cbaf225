package dev.bulkhead.bench.serving;

import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.server.bench.LengthDistribution;
import dev.bulkhead.server.bench.TraceGenerator;
import dev.bulkhead.server.bench.TraceRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * The serving benchmark: replays a seeded trace (Poisson arrivals, ShareGPT-like log-normal lengths) against
 * one engine at each request rate and reports TTFT, TPOT and ITL percentiles with request and token
 * throughput, as JSON per rate and PNG plots. Lengths default to a ShareGPT shape scaled down so that a
 * 2-core CPU serving stories110M is loaded but not hopelessly saturated at 2 req/s.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx4g -Djava.awt.headless=true \
 *   -cp benchmarks/target/bulkhead-benchmarks.jar dev.bulkhead.bench.serving.ServingBench \
 *   --shape stories110m --rates 0.5,1,2 --requests 50 --out-dir benchmarks/results
 * </pre>
 */
@Command(name = "serving-bench", mixinStandardHelpOptions = true,
        description = "Replays a Poisson/ShareGPT-like trace; reports TTFT, TPOT, ITL and throughput.")
public final class ServingBench implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(ServingBench.class);

    @Mixin
    EngineArgs engineArgs;

    @Option(names = "--rates", split = ",", defaultValue = "0.5,1,2", description = "request rates, req/s (inf: all at once)")
    List<Double> rates;

    @Option(names = "--requests", defaultValue = "50", description = "requests per rate")
    int requests;

    @Option(names = "--seed", defaultValue = "2026", description = "trace and prompt seed")
    long seed;

    @Option(names = "--prompt-median", defaultValue = "64", description = "median prompt tokens")
    double promptMedian;

    @Option(names = "--prompt-sigma", defaultValue = "1.0", description = "sigma of log prompt length")
    double promptSigma;

    @Option(names = "--output-median", defaultValue = "48", description = "median output tokens")
    double outputMedian;

    @Option(names = "--output-sigma", defaultValue = "0.8", description = "sigma of log output length")
    double outputSigma;

    @Option(names = "--min-len", defaultValue = "4", description = "shortest prompt and output (vLLM drops ShareGPT rows below 4)")
    int minLen;

    @Option(names = "--max-prompt", defaultValue = "512", description = "longest prompt")
    int maxPrompt;

    @Option(names = "--max-output", defaultValue = "256", description = "longest output")
    int maxOutput;

    @Option(names = "--max-model-len", defaultValue = "1024", description = "context of the engine")
    int maxModelLen;

    @Option(names = "--max-running", defaultValue = "64", description = "most sequences per step")
    int maxRunning;

    @Option(names = "--kv-tokens", defaultValue = "16384", description = "KV pool size in tokens (F32 on the heap)")
    long kvTokens;

    @Option(names = "--timeout-s", defaultValue = "600", description = "wait after the last submission, per rate")
    int timeoutSeconds;

    @Option(names = "--warmup", defaultValue = "4", description = "untimed requests first (JIT warm-up)")
    int warmup;

    @Option(names = "--out-dir", defaultValue = "benchmarks/results", description = "where JSON and PNG go")
    Path outDir;

    public static void main(String[] args) {
        System.exit(new CommandLine(new ServingBench()).execute(args));
    }

    @Override
    public Integer call() throws InterruptedException {
        BenchEnvironment env = BenchEnvironment.capture();
        if (env.load1() > 0.5) {
            LOG.warn("1-minute load average is {} before the benchmark: other work shares the CPU, so latencies "
                    + "will be noisy", env.loadAverage());
        }
        LoadedModel loaded = engineArgs.load();
        int context = Math.min(maxModelLen, loaded.config().maxPositionEmbeddings());
        TraceGenerator lengths = generator(1, context);
        String label = engineArgs.label();
        List<ServingPlot.Run> runs = new ArrayList<>();
        try (LlmEngine engine = engineArgs.start(loaded, maxRunning, context, Math.max(kvTokens, context))) {
            TraceReplayer replayer = new TraceReplayer(engine, Duration.ofSeconds(timeoutSeconds));
            int vocab = engine.config().vocabSize();
            int bos = engine.tokenizer().bosId();
            if (warmup > 0) {
                replayer.replay(generator(Double.POSITIVE_INFINITY, context).withCount(warmup).generate(seed + 1),
                        new RandomPrompts(vocab, bos, ~seed), "warmup-");
            }
            for (int k = 0; k < rates.size(); k++) {
                double rate = rates.get(k);
                String rateLabel = ServingPlot.rateLabel(rate);
                List<TraceRequest> trace = generator(rate, context).generate(seed);
                long stepsBefore = engine.stats().steps();
                long preemptionsBefore = engine.stats().numPreemptions();
                long hitsBefore = engine.stats().kv().hitTokens();
                LOG.info("rate {} req/s: {} requests, load {}", rateLabel, trace.size(), BenchEnvironment.loadAverageNow());
                // NOTE: the same lengths and arrival pattern at every rate, but fresh prompt ids, so no rate is
                // served from the prefix cache filled by the one before.
                TraceReplayer.Result result = replayer.replay(trace, new RandomPrompts(vocab, bos, seed + k),
                        "r" + rateLabel + "-");
                Map<String, Object> settings = settings(label, rate, context, engine);
                settings.put("engineSteps", engine.stats().steps() - stepsBefore);
                settings.put("preemptions", engine.stats().numPreemptions() - preemptionsBefore);
                settings.put("prefixCacheHitTokens", engine.stats().kv().hitTokens() - hitsBefore);
                settings.put("loadAverageAtEnd", BenchEnvironment.loadAverageNow());
                String base = "serving-" + fileLabel(label) + "-" + rateLabel;
                ServingReport.write(outDir.resolve(base + ".json"), settings, env, result);
                ServingPlot.writeRun(outDir.resolve(base + ".png"), label + " @ " + rateLabel + " req/s", result);
                System.out.println(ServingReport.line(rateLabel + "/s", result.summary()));
                runs.add(new ServingPlot.Run(rateLabel + " req/s", result));
            }
        }
        ServingPlot.writeComparison(outDir.resolve("serving-" + fileLabel(label) + ".png"), label, runs);
        LOG.info("wrote results under {} (mean prompt {} tokens, mean output {} tokens unclipped); load at end {}",
                outDir, Math.round(lengths.prompt().unclippedMean()), Math.round(lengths.output().unclippedMean()),
                BenchEnvironment.loadAverageNow());
        return 0;
    }

    private TraceGenerator generator(double rate, int context) {
        return new TraceGenerator(rate, requests,
                new LengthDistribution(promptMedian, promptSigma, minLen, Math.min(maxPrompt, context - 1)),
                new LengthDistribution(outputMedian, outputSigma, minLen, Math.min(maxOutput, context - 1)), context);
    }

    private Map<String, Object> settings(String label, double rate, int context, LlmEngine engine) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("model", label);
        s.put("requestRate", ServingPlot.rateLabel(rate));
        s.put("requests", requests);
        s.put("seed", seed);
        s.put("promptLength", Map.of("distribution", "log-normal", "median", promptMedian, "sigma", promptSigma,
                "min", minLen, "max", Math.min(maxPrompt, context - 1)));
        s.put("outputLength", Map.of("distribution", "log-normal", "median", outputMedian, "sigma", outputSigma,
                "min", minLen, "max", Math.min(maxOutput, context - 1)));
        s.put("sampling", "greedy, ignore_eos");
        s.put("threads", engineArgs.threads);
        s.put("maxBatchedTokens", engineArgs.maxBatchedTokens);
        s.put("maxRunning", maxRunning);
        s.put("maxModelLen", context);
        s.put("kvCapacityTokens", engine.kvCapacityTokens());
        return s;
    }

    private static String fileLabel(String label) {
        return label.replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
