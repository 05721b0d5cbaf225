package dev.bulkhead.bench.peer;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.bench.BenchCheckpoints;
import dev.bulkhead.model.synth.ModelShapes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * Bulkhead and llama.cpp on the same GGUF files, in one run: one random checkpoint of a real shape (llama2.c
 * form, from {@link BenchCheckpoints}), converted to an F32 GGUF by llama.cpp's own converter and quantized by
 * {@code llama-quantize} to every other type; then, per file, {@code llama-bench} and Bulkhead's in-process
 * runner ({@link BulkheadGgufRun}, in a child JVM) with the same thread count, decode length and prompt
 * length. Writes JSON and a markdown table with both commits. Build llama.cpp with
 * {@code benchmarks/peer/run-llamacpp-peer.sh}, which then runs this.
 */
@Command(name = "llamacpp-peer", mixinStandardHelpOptions = true,
        description = "Decode and prefill tok/s of Bulkhead vs llama.cpp on the same GGUF files.")
public final class LlamaCppPeerBench implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(LlamaCppPeerBench.class);
    private static final String F32 = "F32";
    private static final long CHILD_TIMEOUT_SECONDS = 1800;
    /** Decode steps of the long-prompt runs (both harnesses time some); the rows report only prefill. */
    private static final int LONG_PROMPT_DECODE = 4;

    @Option(names = "--llama-bin", required = true, description = "llama.cpp build's bin directory")
    Path llamaBin;

    @Option(names = "--shape", defaultValue = "stories110m", description = "model shape (default ${DEFAULT-VALUE})")
    String shape;

    @Option(names = "--types", split = ",", defaultValue = "F32,BF16,F16,Q8_0,Q4_0,Q4_K_M",
            description = "GGUF types (llama-quantize names)")
    List<String> types;

    @Option(names = "--threads", defaultValue = "2", description = "threads for both engines")
    int threads;

    @Option(names = "--decode-tokens", defaultValue = "256", description = "tokens per decode run (tg)")
    int decodeTokens;

    @Option(names = "--prompt-tokens", defaultValue = "128", description = "prompt length of a prefill run (pp)")
    int promptTokens;

    @Option(names = "--runs", defaultValue = "3", description = "timed runs per engine and file; the best counts")
    int runs;

    @Option(names = "--warmup", defaultValue = "2", description = "untimed Bulkhead runs first (JIT)")
    int warmup;

    @Option(names = "--jvm-flags", defaultValue = "", description = "extra flags for Bulkhead's JVM, e.g. -XX:UseAVX=2")
    String jvmFlags;

    @Option(names = "--baseline-classpath", description = "also run Bulkhead with these jars first on the classpath "
            + "(an older engine build), reported as bulkhead-baseline: before and after in the same run")
    String baselineClasspath;

    @Option(names = "--baseline-rounds", defaultValue = "2",
            description = "with --baseline-classpath or --variant-flags: the engines run in turn this many times per "
                    + "file, best of all their runs (this machine's speed drifts within minutes)")
    int baselineRounds;

    @Option(names = "--variant-flags", description = "also run Bulkhead with these JVM flags added after --jvm-flags "
            + "(e.g. -Dbulkhead.cpu.gemm=openblas), in turn with the plain run, reported as bulkhead-variant: its "
            + "own column and ratio")
    String variantFlags;

    @Option(names = "--batched", split = ",", defaultValue = "16,64",
            description = "sequence counts of the batched-decode rows (llama-batched-bench -npl); "
                    + "--batched-types NONE skips these rows")
    List<Integer> batched;

    @Option(names = "--batched-types", split = ",", defaultValue = "F32", description = "types of the batched rows")
    List<String> batchedTypes;

    @Option(names = "--batched-tokens", defaultValue = "128",
            description = "prompt and decode tokens per sequence in the batched rows (-npp, -ntg)")
    int batchedTokens;

    @Option(names = "--long-prompt", defaultValue = "2048",
            description = "prompt tokens of the long-prompt prefill rows, where attention over the context weighs; "
                    + "0: none. Past the shape's context the file is copied with a longer context_length")
    int longPrompt;

    @Option(names = "--long-prompt-types", split = ",", defaultValue = "F32",
            description = "types of the long-prompt rows")
    List<String> longPromptTypes;

    @Option(names = "--work-dir", defaultValue = "benchmarks/target/peer", description = "checkpoint and GGUF cache")
    Path workDir;

    @Option(names = "--tokenizer", description = "tokenizer dir with tokenizer.json and tokenizer.bin "
            + "(default <shared>/models/llama2-tokenizer)")
    Path tokenizer;

    @Option(names = "--seed", defaultValue = "42", description = "weight seed")
    long seed;

    @Option(names = "--out", description = "JSON results")
    Path out;

    @Option(names = "--markdown", description = "markdown table")
    Path markdown;

    public static void main(String[] args) {
        System.exit(new CommandLine(new LlamaCppPeerBench()).execute(args));
    }

    @Override
    public Integer call() {
        LlamaCpp llama = new LlamaCpp(llamaBin);
        Path tokenizerDir = tokenizer != null ? tokenizer
                : Path.of(System.getProperty("bulkhead.shared.dir", "../shared"), "models", "llama2-tokenizer");
        Path llama2c = new BenchCheckpoints(workDir.resolve("models"), tokenizerDir, seed)
                .llama2c(ModelShapes.get(shape));
        Path ggufDir = workDir.resolve("gguf");
        Path f32 = ggufDir.resolve(shape + "-seed" + seed + "-" + F32 + ".gguf");
        if (!Files.isRegularFile(f32)) {
            mkdirs(ggufDir);
            Path tmp = ggufDir.resolve(f32.getFileName() + ".tmp");
            llama.convertLlama2c(llama2c.resolve("model.bin"), llama2c.resolve("tokenizer.bin"), tmp);
            GgufContextLength.set(tmp, "llama.context_length", ModelShapes.get(shape).config().maxPositionEmbeddings());
            move(tmp, f32);
        }
        PeerReport report = new PeerReport();
        report.setting("shape", shape);
        report.setting("threads", threads);
        report.setting("decodeTokens", decodeTokens);
        report.setting("promptTokens", promptTokens);
        report.setting("runs", runs);
        report.setting("bulkheadCommit", bulkheadCommit());
        report.setting("bulkheadJvmFlags", jvmFlags);
        if (variantFlags != null) {
            report.setting("bulkheadVariantJvmFlags", jvmFlags + " " + variantFlags);
        }
        report.setting("bulkheadHarness", "in-process CpuModelRunner in a child JVM per file (no HTTP)");
        report.setting("llamaCppHarness", "llama-bench -t " + threads + " -p " + promptTokens + " -n " + decodeTokens
                + " -r " + runs);
        report.setting("cpu", cpuName());
        report.setting("loadAverageAtStart", loadAverage());
        for (String type : types) {
            String t = type.toUpperCase(Locale.ROOT);
            Path file = ggufDir.resolve(shape + "-seed" + seed + "-" + t + ".gguf");
            if (!Files.isRegularFile(file)) {
                llama.quantize(f32, file, t);
            }
            GgufTimings theirs = llama.bench(file, t, threads, decodeTokens, promptTokens, runs);
            log(theirs);
            report.add(theirs);
            report.setting("llamaCppCommit", theirs.note());
            alternate(file, t, decodeTokens, promptTokens).forEach(r -> {
                log(r);
                report.add(r);
            });
        }
        for (String type : longPrompt > 0 ? longPromptTypes : List.<String>of()) {
            String t = type.toUpperCase(Locale.ROOT);
            Path file = ggufDir.resolve(shape + "-seed" + seed + "-" + t + ".gguf");
            if (!Files.isRegularFile(file)) {
                continue;
            }
            Path longFile = withContext(file, longPrompt);
            report.setting("longPromptHarness", "llama-bench -t " + threads + " -p " + longPrompt + " -n "
                    + LONG_PROMPT_DECODE + " -r " + runs + "; Bulkhead: BulkheadGgufRun, one " + longPrompt
                    + "-token forward");
            GgufTimings theirs = llama.bench(longFile, t, threads, LONG_PROMPT_DECODE, longPrompt, runs);
            log(theirs);
            report.addLongPrompt(longPrompt, theirs);
            alternate(longFile, t, LONG_PROMPT_DECODE, longPrompt).forEach(r -> {
                log(r);
                report.addLongPrompt(longPrompt, r);
            });
        }
        for (String type : batchedTypes) {
            String t = type.toUpperCase(Locale.ROOT);
            Path file = ggufDir.resolve(shape + "-seed" + seed + "-" + t + ".gguf");
            if (batched.isEmpty() || !Files.isRegularFile(file)) {
                continue;
            }
            report.setting("batchedHarness", "llama-batched-bench -npp " + batchedTokens + " -ntg " + batchedTokens
                    + " -npl " + batched + " (best of " + runs + " invocations); Bulkhead: BulkheadBatchedRun");
            List<BatchedTimings> theirs = new ArrayList<>();
            for (int run = 0; run < runs; run++) {
                theirs.addAll(llama.batchedBench(file, t, threads, batchedTokens, batchedTokens, batched));
            }
            for (int n : batched) {
                report.addBatched(PeerReport.mergeRuns(theirs.stream().filter(b -> b.sequences() == n).toList()));
                BatchedTimings ours = forkBatched(file, t, n, "");
                LOG.info("bulkhead {} x{}: aggregate decode {} tok/s", t, n,
                        String.format(Locale.ROOT, "%.1f", ours.decode()));
                report.addBatched(ours);
                if (variantFlags != null) {
                    BatchedTimings v = forkBatched(file, t, n, variantFlags);
                    LOG.info("bulkhead variant {} x{}: aggregate decode {} tok/s", t, n,
                            String.format(Locale.ROOT, "%.1f", v.decode()));
                    report.addBatched(new BatchedTimings(PeerReport.VARIANT, v.type(), v.sequences(),
                            v.promptTokens(), v.genTokens(), v.decodeTps(), v.prefillTps(), v.note()));
                }
            }
        }
        report.setting("loadAverageAtEnd", loadAverage());
        System.out.print(report.markdown());
        if (out != null) {
            report.writeJson(out);
            System.out.println("wrote " + out);
        }
        if (markdown != null) {
            report.writeMarkdown(markdown);
            System.out.println("wrote " + markdown);
        }
        return 0;
    }

    private static void log(GgufTimings t) {
        LOG.info("{} {}: decode {} tok/s, prefill {} tok/s (best of {})", t.engine(), t.type(),
                String.format(Locale.ROOT, "%.1f", t.decode()), String.format(Locale.ROOT, "%.1f", t.prefill()),
                t.decodeTps().size());
    }

    /**
     * Bulkhead on one file, and with {@code --baseline-classpath} the old engine and with {@code --variant-flags}
     * the variant too, in turn for {@code --baseline-rounds} rounds, each one's runs merged: the new engine
     * first, then the old one and the variant where asked for.
     */
    private List<GgufTimings> alternate(Path file, String type, int decode, int prompt) {
        GgufTimings ours = null;
        GgufTimings base = null;
        GgufTimings variant = null;
        int rounds = baselineClasspath == null && variantFlags == null ? 1 : Math.max(1, baselineRounds);
        for (int round = 0; round < rounds; round++) {
            ours = merge(ours, forkBulkhead(file, type, "", "", decode, prompt));
            if (baselineClasspath != null) {
                base = merge(base, renamed(forkBulkhead(file, type, baselineClasspath + java.io.File.pathSeparator,
                        "", decode, prompt), PeerReport.BASELINE, ", classpath first: " + baselineClasspath));
            }
            if (variantFlags != null) {
                variant = merge(variant, renamed(forkBulkhead(file, type, "", variantFlags, decode, prompt),
                        PeerReport.VARIANT, ", flags added: " + variantFlags));
            }
        }
        List<GgufTimings> all = new ArrayList<>(List.of(ours));
        if (base != null) {
            all.add(base);
        }
        if (variant != null) {
            all.add(variant);
        }
        return all;
    }

    private static GgufTimings merge(GgufTimings earlier, GgufTimings next) {
        if (earlier == null) {
            return next;
        }
        List<Double> decode = new ArrayList<>(earlier.decodeTps());
        decode.addAll(next.decodeTps());
        List<Double> prefill = new ArrayList<>(earlier.prefillTps());
        prefill.addAll(next.prefillTps());
        return new GgufTimings(next.engine(), next.type(), next.threads(), decode, prefill, next.note());
    }

    private static GgufTimings renamed(GgufTimings t, String engine, String noteSuffix) {
        return new GgufTimings(engine, t.type(), t.threads(), t.decodeTps(), t.prefillTps(), t.note() + noteSuffix);
    }

    /**
     * {@code file}, or where its shape's context is shorter than {@code positions}, a copy beside it whose
     * {@code context_length} says {@code positions} (Bulkhead refuses positions past it; llama.cpp sizes its
     * context from the request). The weights are random, so positions past the trained context cost the same.
     */
    private Path withContext(Path file, int positions) {
        if (ModelShapes.get(shape).config().maxPositionEmbeddings() >= positions) {
            return file;
        }
        String name = file.getFileName().toString();
        String stem = name.substring(0, name.length() - ".gguf".length());
        Path copy = file.resolveSibling(stem + "-ctx" + positions + ".gguf");
        if (!Files.isRegularFile(copy)) {
            Path tmp = copy.resolveSibling(copy.getFileName() + ".tmp");
            try {
                Files.copy(file, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot copy " + file + ": " + e.getMessage(), e);
            }
            GgufContextLength.set(tmp, "llama.context_length", positions);
            move(tmp, copy);
        }
        return copy;
    }

    private GgufTimings forkBulkhead(Path file, String type, String classpathPrefix, String extraFlags, int decode,
                                     int prompt) {
        List<String> cmd = childJvm(classpathPrefix, extraFlags);
        cmd.addAll(List.of(BulkheadGgufRun.class.getName(),
                file.toString(), type, Integer.toString(threads), Integer.toString(decode),
                Integer.toString(prompt), Integer.toString(warmup), Integer.toString(runs)));
        String output = runChild(cmd);
        String line = output.lines().filter(l -> l.startsWith(BulkheadGgufRun.TAG)).reduce((a, b) -> b)
                .orElseThrow(() -> new IllegalStateException("Bulkhead child printed no result:\n" + output));
        try {
            return new ObjectMapper().readValue(line.substring(BulkheadGgufRun.TAG.length()), GgufTimings.class);
        } catch (IOException e) {
            throw new UncheckedIOException("bad result line from the Bulkhead child: " + line, e);
        }
    }

    private BatchedTimings forkBatched(Path file, String type, int sequences, String extraFlags) {
        List<String> cmd = childJvm("", extraFlags);
        cmd.addAll(List.of(BulkheadBatchedRun.class.getName(), file.toString(), type, Integer.toString(threads),
                Integer.toString(batchedTokens), Integer.toString(batchedTokens), Integer.toString(sequences),
                Integer.toString(Math.min(warmup, 1)), Integer.toString(runs)));
        String output = runChild(cmd);
        String line = output.lines().filter(l -> l.startsWith(BulkheadBatchedRun.TAG)).reduce((a, b) -> b)
                .orElseThrow(() -> new IllegalStateException("Bulkhead child printed no result:\n" + output));
        try {
            return new ObjectMapper().readValue(line.substring(BulkheadBatchedRun.TAG.length()), BatchedTimings.class);
        } catch (IOException e) {
            throw new UncheckedIOException("bad result line from the Bulkhead child: " + line, e);
        }
    }

    /** The child JVM's command up to the main class: flags, heap, {@code --jvm-flags}, {@code extraFlags}, classpath. */
    private List<String> childJvm(String classpathPrefix, String extraFlags) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Xmx4g", "-XX:+UseParallelGC", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"));
        for (String f : (jvmFlags + " " + extraFlags).trim().split("\\s+")) {
            if (!f.isEmpty()) {
                cmd.add(f);
            }
        }
        cmd.addAll(List.of("-cp", classpathPrefix + System.getProperty("java.class.path")));
        return cmd;
    }

    private static String runChild(List<String> cmd) {
        LOG.debug("forking {}", cmd);
        try {
            Path log = Files.createTempFile("peer-bulkhead-", ".log");
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
                if (!p.waitFor(CHILD_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor();
                    throw new IllegalStateException("Bulkhead child did not finish in " + CHILD_TIMEOUT_SECONDS + " s");
                }
                String output = Files.readString(log);
                if (p.exitValue() != 0) {
                    throw new IllegalStateException("Bulkhead child exited with " + p.exitValue() + ":\n" + output);
                }
                return output;
            } finally {
                Files.deleteIfExists(log);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run the Bulkhead child JVM: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the Bulkhead child", e);
        }
    }

    private static String bulkheadCommit() {
        try {
            Process head = new ProcessBuilder("git", "rev-parse", "--short=12", "HEAD").start();
            String commit = new String(head.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            Process status = new ProcessBuilder("git", "status", "--porcelain", "--untracked-files=no").start();
            boolean dirty = !new String(status.getInputStream().readAllBytes(), StandardCharsets.UTF_8).isBlank();
            head.waitFor();
            status.waitFor();
            return commit.isEmpty() ? "unknown" : commit + (dirty ? " + uncommitted changes" : "");
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    private static void move(Path from, Path to) {
        try {
            Files.move(from, to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move " + from + " to " + to + ": " + e.getMessage(), e);
        }
    }

    private static void mkdirs(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
        }
    }

    private static String cpuName() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown")
                    + ", " + Runtime.getRuntime().availableProcessors() + " CPUs";
        } catch (IOException e) {
            return "unknown";
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
