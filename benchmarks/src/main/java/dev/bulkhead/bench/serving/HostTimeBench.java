package dev.bulkhead.bench.serving;

import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.internal.cuda.Backends;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.model.ModelLoader;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * The engine loop's own host time per step, synchronous against asynchronous scheduling, measured the same way in
 * the same process: {@code bulkhead.step.host_time} (loop time per step less its waits for the runner) and
 * {@code bulkhead.step.host_time.exposed} (the part with no launched step left on the device). Rounds alternate
 * the two modes, each on a fresh engine warmed up first; the median round of each is reported.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *   -cp benchmarks/target/bulkhead-benchmarks.jar dev.bulkhead.bench.serving.HostTimeBench \
 *   --device cuda-emulator --concurrency 8 --max-tokens 48 --rounds 3
 * </pre>
 * On the emulator the device's time is the emulator's, so only the host figures mean anything there.
 */
@Command(name = "host-time-bench", mixinStandardHelpOptions = true,
        description = "Host time per engine step, synchronous vs asynchronous scheduling.")
public final class HostTimeBench implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(HostTimeBench.class);

    @Option(names = "--device", defaultValue = "cuda-emulator", description = "cpu, cuda, cuda:N or cuda-emulator")
    String device;

    @Option(names = "--model", description = "model spec (default: the embedded stories260K)")
    String model;

    @Option(names = "--concurrency", defaultValue = "8", description = "requests submitted at once")
    int concurrency;

    @Option(names = "--max-tokens", defaultValue = "48", description = "tokens generated per request")
    int maxTokens;

    @Option(names = "--rounds", defaultValue = "3", description = "timed rounds per mode, alternating")
    int rounds;

    @Option(names = "--seed", defaultValue = "2026", description = "prompt seed")
    long seed;

    @Option(names = "--out", description = "JSON file")
    Path out;

    /** One timed batch: per step means in milliseconds, steps, and output tokens per second. */
    record Round(boolean async, double hostMs, double exposedMs, long steps, double tokensPerSecond) {
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new HostTimeBench()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Backends.Choice backend = Backends.choose(device);
        List<Round> sync = new ArrayList<>();
        List<Round> async = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            sync.add(round(backend, false));
            async.add(round(backend, true));
        }
        Round s = median(sync);
        Round a = median(async);
        String table = String.format(Locale.ROOT, """
                host time per step on %s (%s), %d requests x %d tokens, median of %d rounds:
                  synchronous : %.3f ms host, %.3f ms exposed, %d steps, %.1f tok/s
                  asynchronous: %.3f ms host, %.3f ms exposed, %d steps, %.1f tok/s
                  async/sync  : host %.2f, exposed %.2f""", backend.name(), backend.reason(), concurrency, maxTokens,
                rounds, s.hostMs(), s.exposedMs(), s.steps(), s.tokensPerSecond(), a.hostMs(), a.exposedMs(), a.steps(),
                a.tokensPerSecond(), a.hostMs() / s.hostMs(), a.exposedMs() / s.exposedMs());
        System.out.println(table);
        if (out != null) {
            Files.writeString(out, json(backend, s, a));
            LOG.info("wrote {}", out);
        }
        return 0;
    }

    private Round round(Backends.Choice backend, boolean asyncScheduling) throws Exception {
        LoadedModel loaded = ModelLoader.load(model);
        int context = 256;
        long bytesPerToken = loaded.config().kvBytesPerToken(backend.factory().kvBytesPerElement());
        long blocks = (long) concurrency * (context / 16 + 1) + 1;
        EngineOptions options = EngineOptions.defaults().withThreads(Runtime.getRuntime().availableProcessors())
                .withMaxRunning(concurrency).withMaxModelLen(context).withKvCacheBytes(blocks * 16 * bytesPerToken)
                .withAsyncScheduling(asyncScheduling);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (LlmEngine engine = new LlmEngine("host-time", loaded, options, registry, backend.factory())) {
            // NOTE: warm-up (JIT, pinned pages) whose requests end one after another, so every decode-graph bucket
            // a timed batch can meet is captured before timing: a capture waits for the step in flight inside the
            // launch, which would count as host time.
            batch(engine, 0);
            Timer host = registry.get("bulkhead.step.host_time").timer();
            Timer exposed = registry.get("bulkhead.step.host_time.exposed").timer();
            long steps0 = host.count();
            double host0 = host.totalTime(TimeUnit.MILLISECONDS);
            double exposed0 = exposed.totalTime(TimeUnit.MILLISECONDS);
            long start = System.nanoTime();
            int tokens = batch(engine, maxTokens);
            double seconds = (System.nanoTime() - start) / 1e9;
            long steps = host.count() - steps0;
            return new Round(asyncScheduling, (host.totalTime(TimeUnit.MILLISECONDS) - host0) / steps,
                    (exposed.totalTime(TimeUnit.MILLISECONDS) - exposed0) / steps, steps, tokens / seconds);
        }
    }

    /** A batch of {@link #concurrency} requests of {@code tokens} tokens each, or 2 + 2i for request i when 0. */
    private int batch(LlmEngine engine, int tokens) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int vocab = engine.config().vocabSize();
        List<CompletableFuture<dev.bulkhead.engine.api.Completion>> futures = new ArrayList<>();
        for (int i = 0; i < concurrency; i++) {
            int[] prompt = new int[rnd.nextInt(8, 25)];
            prompt[0] = 1;
            for (int t = 1; t < prompt.length; t++) {
                prompt[t] = rnd.nextInt(3, vocab);
            }
            SamplingParams greedy = SamplingParams.greedy(tokens > 0 ? tokens : 2 + 2 * i).toBuilder().ignoreEos(true)
                    .build();
            futures.add(engine.generate(GenerateRequest.ofTokens(prompt, greedy)));
        }
        return futures.stream().mapToInt(f -> f.join().tokenIds().length).sum();
    }

    private static Round median(List<Round> rounds) {
        List<Round> sorted = new ArrayList<>(rounds);
        sorted.sort((x, y) -> Double.compare(x.hostMs(), y.hostMs()));
        return sorted.get(sorted.size() / 2);
    }

    private String json(Backends.Choice backend, Round s, Round a) {
        return String.format(Locale.ROOT, """
                {"target": "%s", "backend": "%s", "concurrency": %d, "maxTokens": %d, "rounds": %d,
                 "synchronous": {"hostMsPerStep": %.4f, "exposedMsPerStep": %.4f, "steps": %d,
                                 "tokensPerSecond": %.2f},
                 "asynchronous": {"hostMsPerStep": %.4f, "exposedMsPerStep": %.4f, "steps": %d,
                                  "tokensPerSecond": %.2f}}
                """, backend.name().equals("cuda") ? "device" : backend.name().equals("cpu") ? "cpu" : "emulator",
                backend.name(), concurrency, maxTokens, rounds, s.hostMs(), s.exposedMs(), s.steps(),
                s.tokensPerSecond(), a.hostMs(), a.exposedMs(), a.steps(), a.tokensPerSecond());
    }
}
