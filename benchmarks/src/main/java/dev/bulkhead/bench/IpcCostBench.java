package dev.bulkhead.bench;

import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.api.TokenDelta;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.model.synth.ModelShapes;
import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.router.BreakerSpec;
import dev.bulkhead.router.EngineSpec;
import dev.bulkhead.router.HealthSpec;
import dev.bulkhead.router.Isolation;
import dev.bulkhead.router.ModelSpec;
import dev.bulkhead.router.PolicySpec;
import dev.bulkhead.router.QueueLimits;
import dev.bulkhead.router.Route;
import dev.bulkhead.router.RoutedStream;
import dev.bulkhead.router.Router;
import dev.bulkhead.router.RouterConfig;
import dev.bulkhead.router.RoutingTable;
import dev.bulkhead.router.WorkerLauncher;
import dev.bulkhead.router.WorkerSpec;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * What a worker process costs per token: the same model streamed through the router in-process and as a worker
 * process ({@code isolation: process}), at batch 1 and at 64 concurrent requests, alternating the two for every
 * run so drift hits both. Prints inter-token latency (ITL, measured at the router's subscriber: what a client sees)
 * for both, the difference as a share of the in-process ITL, and the transport time of a delta from the worker's
 * engine to the router's reader (the host's monotonic clock, which both processes share).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx6g \
 *   -cp benchmarks/target/bulkhead-benchmarks.jar dev.bulkhead.bench.IpcCostBench \
 *   --models embedded,stories110m --concurrency 1,64 --out benchmarks/results/ipc-cost.json
 * </pre>
 */
@Command(name = "ipc-cost-bench", mixinStandardHelpOptions = true,
        description = "Inter-token latency in-process vs in a worker process, per model and concurrency.")
public final class IpcCostBench implements Callable<Integer> {

    @Option(names = "--models", split = ",", defaultValue = "embedded,stories110m",
            description = "embedded (stories260K) and/or make-model shapes (random weights, f32)")
    List<String> models;

    @Option(names = "--concurrency", split = ",", defaultValue = "1,64", description = "concurrent streams")
    List<Integer> concurrency;

    @Option(names = "--tokens", defaultValue = "64", description = "tokens per request")
    int tokens;

    @Option(names = "--runs", defaultValue = "3", description = "timed runs per mode, alternating")
    int runs;

    @Option(names = "--threads", defaultValue = "2", description = "forward-pass threads of the engine")
    int threads;

    @Option(names = "--work-dir", defaultValue = "benchmarks/target/bench-models", description = "checkpoint cache")
    Path workDir;

    @Option(names = "--tokenizer", description = "tokenizer of generated shapes (default <shared>/models/llama2-tokenizer)")
    Path tokenizer;

    @Option(names = "--worker-jvm-option", description = "an extra JVM option of the worker (e.g. the bench JVM's GC)")
    List<String> workerJvmOptions = new ArrayList<>();

    @Option(names = "--out", description = "JSON results file")
    Path out;

    /** One mode's inter-token latencies (ns) and, for a worker, the delta transport times (ns). */
    private record Sampled(long[] itl, double transportP50, double transportP99) {
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new IpcCostBench()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        List<String> json = new ArrayList<>();
        System.out.printf(Locale.ROOT, "%-12s %4s | %-28s | %-28s | %-26s | %s%n", "model", "c",
                "ITL in-process p50/p99/mean ms", "ITL worker p50/p99/mean ms", "added mean ms (% of ITL)",
                "transport p50/p99 ms");
        for (String m : models) {
            String source = source(m);
            for (int c : concurrency) {
                int maxLen = Math.min(512, tokens + 32);
                EngineSpec engine = new EngineSpec(threads, 16, kvBytes(m, c * maxLen), 256, Math.max(16, c), maxLen,
                        false);
                // NOTE: a benchmark is no outage: long batch-64 requests must not count as slow calls or failed probes.
                ModelSpec spec = new ModelSpec("bench", source, 0, engine, new QueueLimits(256, 256, 256),
                        new BreakerSpec(100, 100, 100, 3_600_000, 100, 1_000, 3), new HealthSpec(600_000, 10_000, 600_000))
                        .withWorker(new WorkerSpec(0, 0, 0, 0, 0, 0, workerJvmOptions));
                RouterConfig base = RouterConfig.of(List.of(spec), new RoutingTable(1, Map.of("bench",
                        Route.to("bench")))).withNodeMemory(64L << 30)
                        .withPolicy(new PolicySpec(600_000, 0, 0, 0, 0, 0, 0));
                // NOTE: a registry per level, so the transport percentiles are this level's alone.
                SimpleMeterRegistry registry = new SimpleMeterRegistry();
                try (Router local = Router.start(base.withDefaultIsolation(Isolation.IN_PROCESS));
                     Router worker = Router.start(base.withDefaultIsolation(Isolation.PROCESS), ModelRunnerFactory.CPU,
                             registry, WorkerLauncher.sameJvm(WorkerLauncher.WORKER_MAIN, List.of(), "cpu"))) {
                    run(local, c);
                    run(worker, c);
                    List<long[]> here = new ArrayList<>();
                    List<long[]> there = new ArrayList<>();
                    for (int r = 0; r < runs; r++) {
                        here.add(run(local, c));
                        there.add(run(worker, c));
                    }
                    double[] transport = percentiles(registry.find("bulkhead.worker.ipc").timer());
                    json.add(report(m, c, concat(here), concat(there), transport));
                }
            }
        }
        if (out != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, "{\"cores\": " + Runtime.getRuntime().availableProcessors() + ", \"load\": "
                    + java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()
                    + ", \"results\": [\n  " + String.join(",\n  ", json) + "\n]}\n");
            System.out.println("wrote " + out);
        }
        return 0;
    }

    private String report(String m, int c, long[] a, long[] b, double[] transport) {
        double meanA = mean(a) / 1e6;
        double meanB = mean(b) / 1e6;
        System.out.println(String.format(Locale.ROOT,
                "%-12s %4d | %8.3f %8.3f %8.3f   | %8.3f %8.3f %8.3f   | %8.3f (%5.2f%%)          | %.3f / %.3f",
                m, c, pct(a, 0.5) / 1e6, pct(a, 0.99) / 1e6, meanA, pct(b, 0.5) / 1e6, pct(b, 0.99) / 1e6, meanB,
                meanB - meanA, 100 * (meanB - meanA) / meanA, transport[0], transport[1]));
        return String.format(Locale.ROOT, "{\"model\": \"%s\", \"concurrency\": %d, \"tokens\": %d, "
                        + "\"itl_in_process_ms\": {\"p50\": %.4f, \"p99\": %.4f, \"mean\": %.4f}, "
                        + "\"itl_worker_ms\": {\"p50\": %.4f, \"p99\": %.4f, \"mean\": %.4f}, "
                        + "\"added_mean_ms\": %.4f, \"added_pct\": %.3f, \"added_p99_ms\": %.4f, "
                        + "\"transport_ms\": {\"p50\": %.4f, \"p99\": %.4f}, \"samples\": %d}",
                m, c, tokens, pct(a, 0.5) / 1e6, pct(a, 0.99) / 1e6, meanA, pct(b, 0.5) / 1e6, pct(b, 0.99) / 1e6,
                meanB, meanB - meanA, 100 * (meanB - meanA) / meanA, (pct(b, 0.99) - pct(a, 0.99)) / 1e6,
                transport[0], transport[1], b.length);
    }

    private String source(String m) {
        if (m.equals("embedded")) {
            return null;
        }
        Path tok = tokenizer != null ? tokenizer
                : Path.of(System.getProperty("bulkhead.shared.dir", "../shared"), "models", "llama2-tokenizer");
        return new BenchCheckpoints(workDir, tok, 1).huggingFace(ModelShapes.get(m), DType.F32).toString();
    }

    /** A KV pool for {@code tokens} tokens over all sequences, f32 K and V, every layer (plus a block margin). */
    private static long kvBytes(String m, int tokens) {
        if (m.equals("embedded")) {
            return 64L << 20;
        }
        long perToken = ModelShapes.get(m).config().kvBytesPerToken(4);
        return perToken * (tokens + 64L * 16);
    }

    /** {@code c} concurrent greedy streams of {@code tokens} tokens; the gaps between deltas of each, in ns. */
    private long[] run(Router router, int c) throws Exception {
        List<CompletableFuture<long[]>> gaps = new ArrayList<>();
        for (int i = 0; i < c; i++) {
            SamplingParams p = SamplingParams.greedy(tokens).toBuilder().ignoreEos(true).build();
            RoutedStream s = router.stream("bench", GenerateRequest.of("Once upon a time " + i, p)
                    .withDeadline(Instant.now().plusSeconds(600)));
            CompletableFuture<long[]> done = new CompletableFuture<>();
            s.tokens().subscribe(new Flow.Subscriber<TokenDelta>() {
                private final long[] at = new long[tokens + 1];
                private int n;

                @Override
                public void onSubscribe(Flow.Subscription sub) {
                    sub.request(Long.MAX_VALUE);
                }

                @Override
                public void onNext(TokenDelta d) {
                    if (n < at.length) {
                        at[n++] = System.nanoTime();
                    }
                }

                @Override
                public void onError(Throwable t) {
                    done.completeExceptionally(t);
                }

                @Override
                public void onComplete() {
                    long[] g = new long[Math.max(0, n - 1)];
                    for (int k = 1; k < n; k++) {
                        g[k - 1] = at[k] - at[k - 1];
                    }
                    done.complete(g);
                }
            });
            gaps.add(done);
        }
        List<long[]> all = new ArrayList<>();
        for (CompletableFuture<long[]> g : gaps) {
            all.add(g.get(30, TimeUnit.MINUTES));
        }
        return concat(all);
    }

    private static double[] percentiles(Timer t) {
        if (t == null) {
            return new double[] {Double.NaN, Double.NaN};
        }
        double p50 = Double.NaN;
        double p99 = Double.NaN;
        for (ValueAtPercentile v : t.takeSnapshot().percentileValues()) {
            if (v.percentile() == 0.5) {
                p50 = v.value(TimeUnit.MILLISECONDS);
            } else if (v.percentile() == 0.99) {
                p99 = v.value(TimeUnit.MILLISECONDS);
            }
        }
        return new double[] {p50, p99};
    }

    private static long[] concat(List<long[]> parts) {
        return parts.stream().flatMapToLong(Arrays::stream).sorted().toArray();
    }

    private static double pct(long[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    private static double mean(long[] v) {
        return Arrays.stream(v).average().orElse(Double.NaN);
    }
}
