package dev.bulkhead.bench;

import dev.bulkhead.model.synth.ModelShape;
import dev.bulkhead.model.synth.ModelShapes;
import dev.bulkhead.model.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * Decode throughput of Bulkhead's CPU runner on a random checkpoint of a real shape, side by side with Jlama
 * and llama2.c's run.c on the same weights, against the machine's measured read bandwidth.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *   -cp benchmarks/target/bulkhead-benchmarks.jar dev.bulkhead.bench.DecodeBench \
 *   --shape stories110m --dtypes f32,bf16 --threads 1,2 --tokens 128 --peers jlama,c \
 *   --out benchmarks/results/decode-stories110m.json
 * </pre>
 */
@Command(name = "decode-bench", mixinStandardHelpOptions = true,
        description = "Greedy decode tok/s of Bulkhead vs Jlama and llama2.c on a random checkpoint.")
public final class DecodeBench implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(DecodeBench.class);
    private static final long CHILD_TIMEOUT_SECONDS = 1800;

    @Option(names = "--shape", defaultValue = "stories110m", description = "model shape preset (default ${DEFAULT-VALUE})")
    String shape;

    @Option(names = "--dtypes", split = ",", defaultValue = "f32,bf16", description = "weight types: f32, bf16, f16")
    List<String> dtypes;

    @Option(names = "--threads", split = ",", defaultValue = "1,2", description = "thread counts")
    List<Integer> threads;

    @Option(names = "--tokens", defaultValue = "128", description = "timed decode steps per run")
    int tokens;

    @Option(names = "--warmup", defaultValue = "1", description = "untimed runs before the timed ones")
    int warmup;

    @Option(names = "--runs", defaultValue = "3", description = "timed runs; the best counts")
    int runs;

    @Option(names = "--peers", split = ",", defaultValue = "jlama,c", description = "peers: jlama, c, none")
    List<String> peers;

    @Option(names = "--out", description = "JSON file for the results")
    Path out;

    @Option(names = "--work-dir", defaultValue = "benchmarks/target/models", description = "checkpoint cache")
    Path workDir;

    @Option(names = "--tokenizer", description = "Hugging Face tokenizer dir (default <shared>/models/llama2-tokenizer)")
    Path tokenizer;

    @Option(names = "--seed", defaultValue = "42", description = "weight seed")
    long seed;

    @Option(names = "--llama2c", defaultValue = "benchmarks/target/llama2c/run",
            description = "run.c binary; built from run.c beside it when missing")
    Path llama2cBinary;

    @Option(names = "--bandwidth-mib", defaultValue = "1024", description = "buffer for the bandwidth probe; 0 skips it")
    int bandwidthMib;

    @Option(names = "--fork-bulkhead", description = "run Bulkhead in a child JVM too (default: in this JVM)")
    boolean forkBulkhead;

    public static void main(String[] args) {
        System.exit(new CommandLine(new DecodeBench()).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        for (String p : peers) {
            if (!List.of("jlama", "c", "none").contains(p)) {
                throw new IllegalArgumentException("--peers takes jlama, c or none, got '" + p + "'");
            }
        }
        ModelShape modelShape = ModelShapes.get(shape);
        Path tokenizerDir = tokenizer != null ? tokenizer
                : Path.of(System.getProperty("bulkhead.shared.dir", "../shared"), "models", "llama2-tokenizer");
        BenchCheckpoints checkpoints = new BenchCheckpoints(workDir, tokenizerDir, seed);
        DecodeReport report = new DecodeReport(shape, modelShape.config());
        report.setting("tokens", tokens);
        report.setting("warmupRuns", warmup);
        report.setting("runs", runs);
        report.setting("seed", seed);
        report.setting("cpu", cpuName());
        report.setting("availableProcessors", Runtime.getRuntime().availableProcessors());
        report.setting("java", System.getProperty("java.vm.name") + " " + Runtime.version());
        String load = loadAverage();
        report.setting("loadAverageAtStart", load);
        warnIfBusy(load);

        if (bandwidthMib > 0) {
            for (int t : threads) {
                double bw = MemoryBandwidth.measure((long) bandwidthMib << 20, t, 8);
                report.bandwidth(t, bw);
                LOG.info("read bandwidth with {} thread(s): {} GB/s", t, String.format(Locale.ROOT, "%.1f", bw / 1e9));
            }
        }
        Optional<Path> cBinary = peers.contains("c") ? new Llama2cPeer(llama2cBinary).ensureBuilt() : Optional.empty();
        for (String d : dtypes) {
            DType dtype = parseDType(d);
            String name = dtype.name().toLowerCase(Locale.ROOT);
            report.bytesPerToken(name, WeightTraffic.bytesPerToken(modelShape.config(), dtype));
            Path hf = checkpoints.huggingFace(modelShape, dtype);
            Path c = cBinary.isPresent() && dtype == DType.F32 ? checkpoints.llama2c(modelShape) : null;
            for (int t : threads) {
                DecodeSpec spec = new DecodeSpec(hf, name, t, tokens, warmup, runs);
                record(report, forkBulkhead ? DecodeChild.fork("bulkhead", spec, CHILD_TIMEOUT_SECONDS)
                        : BulkheadDecode.run(spec));
                if (peers.contains("jlama")) {
                    record(report, DecodeChild.fork("jlama", spec, CHILD_TIMEOUT_SECONDS));
                }
                if (c != null) {
                    record(report, new Llama2cPeer(cBinary.get()).run(c, spec));
                }
            }
        }
        report.setting("loadAverageAtEnd", loadAverage());
        System.out.print(report.table());
        if (out != null) {
            report.writeJson(out);
            System.out.println("wrote " + out);
        }
        return 0;
    }

    private static void record(DecodeReport report, DecodeResult r) {
        LOG.info("{} {} {} thread(s): {} tok/s best, {} median ({})", r.engine(), r.dtype(), r.threads(),
                String.format(Locale.ROOT, "%.1f", r.bestTokensPerSecond()),
                String.format(Locale.ROOT, "%.1f", r.medianTokensPerSecond()), r.note());
        report.add(r);
    }

    /** f32, bf16 or f16 (any case) as a {@link DType}. */
    public static DType parseDType(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "f32" -> DType.F32;
            case "bf16" -> DType.BF16;
            case "f16" -> DType.F16;
            default -> throw new IllegalArgumentException("--dtypes takes f32, bf16 or f16, got '" + s + "'");
        };
    }

    private static String cpuName() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** Decode timings on a shared machine are only comparable when nothing else runs; say so up front. */
    private static void warnIfBusy(String loadAverage) {
        try {
            double load1 = Double.parseDouble(loadAverage.split(" ")[0]);
            if (load1 > 0.5) {
                LOG.warn("1-minute load average is {} before the benchmark started: other work shares the CPU, "
                        + "so these timings will be noisy (re-run on a quiet machine)", load1);
            }
        } catch (NumberFormatException e) {
            LOG.debug("cannot parse load average '{}'", loadAverage);
        }
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
