package dev.bulkhead.bench.peer;

import com.fasterxml.jackson.databind.JsonNode;
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
 * The llama.cpp tools the peer benchmark drives, from a build directory's {@code bin/}: the llama2.c
 * converter (F32 GGUF), {@code llama-quantize} (every other type) and {@code llama-bench} (the timings).
 * Each runs as a subprocess whose output goes to a file, so a hung tool is caught by the timeout.
 *
 * @param bin the directory holding the llama.cpp binaries
 */
public record LlamaCpp(Path bin) {

    private static final Logger LOG = LoggerFactory.getLogger(LlamaCpp.class);
    private static final long TIMEOUT_SECONDS = 1800;

    public LlamaCpp {
        for (String tool : List.of("llama-bench", "llama-batched-bench", "llama-quantize",
                "llama-convert-llama2c-to-ggml")) {
            if (!Files.isExecutable(bin.resolve(tool))) {
                throw new IllegalArgumentException(bin.resolve(tool) + " is missing: build llama.cpp first "
                        + "(benchmarks/peer/run-llamacpp-peer.sh does)");
            }
        }
    }

    /** Writes the F32 GGUF of a llama2.c checkpoint, with the vocabulary of llama2.c's tokenizer.bin. */
    public void convertLlama2c(Path modelBin, Path tokenizerBin, Path gguf) {
        run(List.of(tool("llama-convert-llama2c-to-ggml"), "--copy-vocab-from-model", tokenizerBin.toString(),
                "--llama2c-model", modelBin.toString(), "--llama2c-output-model", gguf.toString()));
    }

    /** {@code llama-quantize in out TYPE}: {@code type} is one of its names (BF16, F16, Q8_0, Q4_0, Q4_K_M...). */
    public void quantize(Path in, Path out, String type) {
        run(List.of(tool("llama-quantize"), in.toString(), out.toString(), type));
    }

    /**
     * {@code llama-bench} on one file: {@code pp<promptTokens>} and {@code tg<decodeTokens>} with
     * {@code runs} repetitions each (after its own warm-up run), as tok/s per repetition.
     */
    public GgufTimings bench(Path gguf, String type, int threads, int decodeTokens, int promptTokens, int runs) {
        String out = run(List.of(tool("llama-bench"), "-m", gguf.toString(), "-t", Integer.toString(threads),
                "-p", Integer.toString(promptTokens), "-n", Integer.toString(decodeTokens),
                "-r", Integer.toString(runs), "-o", "json"));
        try {
            JsonNode rows = new ObjectMapper().readTree(out.substring(out.indexOf('[')));
            List<Double> decode = new ArrayList<>();
            List<Double> prefill = new ArrayList<>();
            String commit = "";
            for (JsonNode row : rows) {
                List<Double> target = row.path("n_gen").asInt() > 0 ? decode : prefill;
                JsonNode samples = row.path("samples_ts");
                if (samples.isArray() && !samples.isEmpty()) {
                    samples.forEach(s -> target.add(s.asDouble()));
                } else {
                    target.add(row.path("avg_ts").asDouble());
                }
                commit = row.path("build_commit").asText() + " (build " + row.path("build_number").asText() + ")";
            }
            return new GgufTimings("llama.cpp", type, threads, decode, prefill, "llama-bench, commit " + commit);
        } catch (IOException | IndexOutOfBoundsException e) {
            throw new IllegalStateException("cannot read llama-bench's JSON for " + gguf + ": " + e.getMessage()
                    + "\n" + out, e);
        }
    }

    /**
     * {@code llama-batched-bench} on one file: for each count in {@code sequences}, that many prompts of
     * {@code promptTokens} prefilled, then {@code genTokens} steps of one token per sequence; aggregate tok/s.
     */
    public List<BatchedTimings> batchedBench(Path gguf, String type, int threads, int promptTokens, int genTokens,
                                             List<Integer> sequences) {
        int most = sequences.stream().mapToInt(Integer::intValue).max().orElseThrow();
        String out = run(List.of(tool("llama-batched-bench"), "-m", gguf.toString(), "-t", Integer.toString(threads),
                "-tb", Integer.toString(threads), "-c", Integer.toString(most * (promptTokens + genTokens)),
                "-b", "2048", "-ub", "512", "-npp", Integer.toString(promptTokens),
                "-ntg", Integer.toString(genTokens), "-npl", sequences.stream().map(String::valueOf)
                        .collect(java.util.stream.Collectors.joining(",")), "--output-format", "jsonl"));
        List<BatchedTimings> result = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : out.lines().filter(l -> l.startsWith("{")).toList()) {
            try {
                JsonNode row = json.readTree(line);
                result.add(new BatchedTimings("llama.cpp", type, row.path("pl").asInt(), row.path("pp").asInt(),
                        row.path("tg").asInt(), List.of(row.path("speed_tg").asDouble()),
                        List.of(row.path("speed_pp").asDouble()), "llama-batched-bench"));
            } catch (IOException e) {
                throw new IllegalStateException("cannot read llama-batched-bench's line: " + line, e);
            }
        }
        if (result.size() != sequences.size()) {
            throw new IllegalStateException("llama-batched-bench gave " + result.size() + " rows for " + sequences
                    + ":\n" + out);
        }
        return result;
    }

    private String tool(String name) {
        return bin.resolve(name).toString();
    }

    /** Runs {@code cmd} and returns its stdout; throws with the output's tail when it fails. */
    private static String run(List<String> cmd) {
        LOG.info("running {}", String.join(" ", cmd));
        Path stdout = null;
        Path stderr = null;
        try {
            stdout = Files.createTempFile("llamacpp-", ".out");
            stderr = Files.createTempFile("llamacpp-", ".err");
            Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new IllegalStateException(cmd.get(0) + " did not finish in " + TIMEOUT_SECONDS + " s");
            }
            String out = Files.readString(stdout);
            if (p.exitValue() != 0) {
                List<String> err = Files.readAllLines(stderr);
                throw new IllegalStateException(String.join(" ", cmd) + " exited with " + p.exitValue() + ":\n"
                        + String.join("\n", err.subList(Math.max(0, err.size() - 30), err.size())));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + cmd.get(0) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + cmd.get(0), e);
        } finally {
            for (Path f : new Path[] {stdout, stderr}) {
                if (f != null) {
                    try {
                        Files.deleteIfExists(f);
                    } catch (IOException e) {
                        LOG.debug("cannot delete {}: {}", f, e.getMessage());
                    }
                }
            }
        }
    }
}
