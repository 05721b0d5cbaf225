package dev.bulkhead.bench.serving;

import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.model.LoadedModel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * Aggregate decode throughput against concurrency: at each level, that many requests (short random prompts,
 * greedy, EOS ignored, equal max_tokens) are submitted at once to one engine, and the output tokens per second
 * are measured both over the whole batch and over the steady decode window. Batching streams each weight
 * once per step for every sequence, so on a memory-bound CPU the decode rate should grow almost linearly
 * until the step becomes compute-bound.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx4g -Djava.awt.headless=true \
 *   -cp benchmarks/target/bulkhead-benchmarks.jar dev.bulkhead.bench.serving.ThroughputBench \
 *   --shape stories110m --concurrency 1,4,16,64 --out benchmarks/results/throughput-stories110m.json
 * </pre>
 */
@Command(name = "throughput-bench", mixinStandardHelpOptions = true,
        description = "Aggregate decode tok/s of one engine at several numbers of concurrent requests.")
public final class ThroughputBench implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(ThroughputBench.class);

    @Mixin
    EngineArgs engineArgs;

    @Option(names = "--concurrency", split = ",", defaultValue = "1,4,16,64", description = "concurrent requests per level")
    List<Integer> concurrency;

    @Option(names = "--prompt-min", defaultValue = "16", description = "shortest prompt")
    int promptMin;

    @Option(names = "--prompt-max", defaultValue = "32", description = "longest prompt")
    int promptMax;

    @Option(names = "--max-tokens", defaultValue = "128", description = "tokens generated per request")
    int maxTokens;

    @Option(names = "--runs", defaultValue = "2", description = "timed batches per level; the best counts")
    int runs;

    @Option(names = "--warmup-tokens", defaultValue = "16", description = "tokens of the untimed warm-up batch per level (0: none)")
    int warmupTokens;

    @Option(names = "--seed", defaultValue = "2026", description = "prompt seed")
    long seed;

    @Option(names = "--timeout-s", defaultValue = "900", description = "longest wait for one batch")
    int timeoutSeconds;

    @Option(names = "--out", description = "JSON file (a PNG is written beside it)")
    Path out;

    @Option(names = "--budget-s", defaultValue = "0",
            description = "start no batch past this many seconds; the rest are listed as skipped (0: no limit)")
    int budgetSeconds;

    @Option(names = "--png", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "write the PNG beside the JSON (default ${DEFAULT-VALUE}); --no-png needs no chart library")
    boolean png;

    public static void main(String[] args) {
        System.exit(new CommandLine(new ThroughputBench()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        if (promptMin < 1 || promptMax < promptMin) {
            throw new IllegalArgumentException("need 1 <= --prompt-min <= --prompt-max, got " + promptMin + ", " + promptMax);
        }
        BenchEnvironment env = BenchEnvironment.capture();
        if (env.load1() > 0.5) {
            LOG.warn("1-minute load average is {} before the benchmark: other work shares the CPU", env.loadAverage());
        }
        long started = System.nanoTime();
        List<String> skipped = new ArrayList<>();
        int maxC = Collections.max(concurrency);
        // NOTE: the warm-up batches must fit the context too, when they ask for more tokens than the timed ones.
        int context = promptMax + Math.max(maxTokens, warmupTokens);
        LoadedModel loaded = engineArgs.load();
        ThroughputReport report = new ThroughputReport(ThroughputReport.matmulFlopsPerToken(loaded.config()));
        try (LlmEngine engine = engineArgs.start(loaded, maxC, context, (long) maxC * context)) {
            TraceReplayer submitter = new TraceReplayer(engine, Duration.ofSeconds(timeoutSeconds));
            // NOTE: every level is warmed up, so the single-token kernels are as hot at c=1 as the batched ones
            // are later; a cold c=1 would flatter the speed-up.
            for (int c : warmupTokens > 0 ? concurrency : List.<Integer>of()) {
                if (spent(started)) {
                    skipped.add("warmup-c" + c);
                    continue;
                }
                batch(engine, submitter, "warmup-c" + c, -1, c, warmupTokens);
            }
            for (int run = 0; run < runs; run++) {
                for (int c : concurrency) {
                    if (spent(started)) {
                        skipped.add("c" + c + "-run" + run);
                        continue;
                    }
                    ThroughputRun r = batch(engine, submitter, "c" + c + "-run" + run, run, c, maxTokens);
                    report.add(r);
                    LOG.info("c={} run {}: decode {} tok/s, total {} tok/s, {} steps, load {}", c, run,
                            Math.round(r.decodeTokensPerSecond()), Math.round(r.totalTokensPerSecond()),
                            r.engineSteps(), BenchEnvironment.loadAverageNow());
                }
            }
        }
        if (!skipped.isEmpty()) {
            LOG.warn("the {} s budget was spent before {}", budgetSeconds, skipped);
        }
        if (!report.levels().isEmpty()) {
            System.out.print(report.table());
        }
        if (out != null) {
            Map<String, Object> settings = new LinkedHashMap<>();
            settings.put("model", engineArgs.label());
            settings.put("device", engineArgs.device);
            settings.put("backend", engineArgs.backend().name() + ": " + engineArgs.backend().reason());
            settings.put("concurrency", concurrency);
            settings.put("promptTokens", promptMin + ".." + promptMax);
            settings.put("maxTokens", maxTokens);
            settings.put("sampling", "greedy, ignore_eos");
            settings.put("runs", runs);
            settings.put("seed", seed);
            settings.put("threads", engineArgs.threads);
            settings.put("maxBatchedTokens", engineArgs.maxBatchedTokens);
            settings.put("maxRunning", maxC);
            settings.put("loadAverageAtEnd", BenchEnvironment.loadAverageNow());
            settings.put("skipped", skipped);
            report.writeJson(out, settings, env);
            System.out.println("wrote " + out);
            if (png && !report.levels().isEmpty()) {
                Path plot = out.resolveSibling(out.getFileName().toString().replaceFirst("\\.json$", "") + ".png");
                ThroughputPlot.write(report, plot, engineArgs.label() + ": aggregate tok/s, " + engineArgs.threads
                        + " threads");
                System.out.println("wrote " + plot);
            }
        }
        return 0;
    }

    private boolean spent(long startedNanos) {
        return budgetSeconds > 0 && (System.nanoTime() - startedNanos) / 1e9 > budgetSeconds;
    }

    /**
     * Runs one batch of {@code c} requests. Prompt lengths depend on {@code c} only; prompt ids also on
     * {@code run}, so no batch is served from the prefix cache filled by an earlier one.
     */
    private ThroughputRun batch(LlmEngine engine, TraceReplayer submitter, String name, int run, int c, int tokens)
            throws Exception {
        SplittableRandom lengths = new SplittableRandom(seed ^ c);
        RandomPrompts prompts = new RandomPrompts(engine.config().vocabSize(), engine.tokenizer().bosId(),
                seed + 1000L * (run + 1) + c);
        long stepsBefore = engine.stats().steps();
        long hitsBefore = engine.stats().kv().hitTokens();
        List<CompletableFuture<RequestTiming>> futures = new ArrayList<>(c);
        for (int i = 0; i < c; i++) {
            int[] prompt = prompts.prompt(i, lengths.nextInt(promptMin, promptMax + 1));
            futures.add(submitter.submit(name + "-" + i, prompt, tokens, System.nanoTime()));
        }
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(timeoutSeconds, TimeUnit.SECONDS);
        // NOTE: the loop publishes its step counter after the step that finished the batch; wait for it so the
        // count is not one short.
        awaitIdle(engine);
        long hits = engine.stats().kv().hitTokens() - hitsBefore;
        if (hits > 0) {
            LOG.warn("batch {} reused {} prompt tokens from the prefix cache: its TTFT is flattered", name, hits);
        }
        return ThroughputRun.of(futures.stream().map(CompletableFuture::join).toList(),
                engine.stats().steps() - stepsBefore);
    }

    private static void awaitIdle(LlmEngine engine) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((engine.inFlight() > 0 || engine.stats().numRunning() > 0) && System.nanoTime() < until) {
            Thread.sleep(2);
        }
    }
}
