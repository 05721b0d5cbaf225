package dev.bulkhead.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one engine's decode in a fresh JVM and hands the result back on stdout as one tagged JSON line, so
 * engines do not share a heap, a JIT profile or process-wide thread pools.
 * {@code main(engine, modelDir, dtype, threads, tokens, warmupRuns, runs)}.
 */
public final class DecodeChild {

    private static final Logger LOG = LoggerFactory.getLogger(DecodeChild.class);
    static final String TAG = "DECODE-RESULT ";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** JVM flags every child gets: the Vector API and FFM for both engines, a heap that leaves room for peers. */
    private static final List<String> JVM_FLAGS = List.of("--add-modules", "jdk.incubator.vector",
            "--enable-native-access=ALL-UNNAMED", "-Xmx2g", "-XX:+UseParallelGC",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");

    private DecodeChild() {
    }

    public static void main(String[] args) throws JsonProcessingException {
        if (args.length != 7) {
            throw new IllegalArgumentException("usage: DecodeChild <bulkhead|jlama> <modelDir> <dtype> <threads> "
                    + "<tokens> <warmupRuns> <runs>");
        }
        DecodeSpec spec = new DecodeSpec(Path.of(args[1]), args[2], Integer.parseInt(args[3]),
                Integer.parseInt(args[4]), Integer.parseInt(args[5]), Integer.parseInt(args[6]));
        DecodeResult result = switch (args[0]) {
            case "bulkhead" -> BulkheadDecode.run(spec);
            case "jlama" -> JlamaDecode.run(spec);
            default -> throw new IllegalArgumentException("unknown engine '" + args[0] + "' (bulkhead, jlama)");
        };
        System.out.println(TAG + JSON.writeValueAsString(result));
        // NOTE: Jlama's thread pool is never shut down; exit instead of waiting on its threads.
        System.exit(0);
    }

    /**
     * Runs {@code engine} on {@code spec} in a child JVM with this JVM's classpath and returns its result.
     *
     * @throws IllegalStateException when the child fails or prints no result; the message has its output tail
     */
    public static DecodeResult fork(String engine, DecodeSpec spec, long timeoutSeconds) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(JVM_FLAGS);
        // NOTE: Jlama runs a few element-wise steps as parallel streams on the common pool, outside its own
        // executor; cap that pool too so the child really uses `threads` threads (caller + threads - 1).
        cmd.add("-Djava.util.concurrent.ForkJoinPool.common.parallelism=" + (spec.threads() - 1));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), DecodeChild.class.getName(), engine,
                spec.modelDir().toString(), spec.dtype(), Integer.toString(spec.threads()),
                Integer.toString(spec.tokens()), Integer.toString(spec.warmupRuns()), Integer.toString(spec.runs())));
        LOG.debug("forking {}", cmd);
        Path log = null;
        try {
            // NOTE: output goes to a file, not a pipe, so a hung child is caught by the timeout instead of
            // blocking a reader forever.
            log = Files.createTempFile("decode-" + engine + "-", ".log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new IllegalStateException(engine + " child did not finish in " + timeoutSeconds + " s; last output:\n"
                        + String.join("\n", tail(Files.readAllLines(log), 30)));
            }
            List<String> lines = Files.readAllLines(log);
            String last = lines.stream().filter(l -> l.startsWith(TAG)).reduce((a, b) -> b).orElse(null);
            if (p.exitValue() != 0 || last == null) {
                throw new IllegalStateException(engine + " child exited with " + p.exitValue()
                        + " and no result; last output:\n" + String.join("\n", tail(lines, 30)));
            }
            return JSON.readValue(last.substring(TAG.length()), DecodeResult.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run the " + engine + " child JVM: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the " + engine + " child", e);
        } finally {
            deleteQuietly(log);
        }
    }

    private static void deleteQuietly(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                LOG.debug("cannot delete {}: {}", file, e.getMessage());
            }
        }
    }

    static List<String> tail(List<String> lines, int n) {
        return lines.subList(Math.max(0, lines.size() - n), lines.size());
    }
}
