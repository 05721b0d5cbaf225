package dev.bulkhead.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The plain-C peer: karpathy's llama2.c {@code run.c}, built with {@code gcc -Ofast -fopenmp -march=native}
 * outside this repository and run as a subprocess with {@code OMP_NUM_THREADS}. It decodes greedily
 * ({@code -t 0}) from BOS and prints its own rate, measured like {@link DecodeSpec}: the first step is not
 * timed. run.c only reads F32 weights.
 *
 * @param binary the compiled {@code run}; when it is missing but {@code run.c} lies beside it, it is built
 */
public record Llama2cPeer(Path binary) {

    private static final Logger LOG = LoggerFactory.getLogger(Llama2cPeer.class);
    private static final Pattern RATE = Pattern.compile("achieved tok/s: ([0-9.]+)");
    private static final long TIMEOUT_SECONDS = 600;

    public Llama2cPeer {
        if (binary == null) {
            throw new IllegalArgumentException("binary must be set");
        }
    }

    /**
     * The binary, compiled from {@code run.c} beside it if needed; empty (with the reason logged) when neither
     * exists or gcc fails.
     */
    public Optional<Path> ensureBuilt() {
        if (Files.isExecutable(binary)) {
            return Optional.of(binary);
        }
        Path source = binary.resolveSibling("run.c");
        if (!Files.isRegularFile(source)) {
            LOG.warn("llama2.c peer skipped: neither {} nor {} exists. Put karpathy/llama2.c's run.c there to "
                    + "have it built (gcc -Ofast -fopenmp -march=native)", binary, source);
            return Optional.empty();
        }
        List<String> cmd = List.of("gcc", "-Ofast", "-fopenmp", "-march=native", source.toString(), "-lm", "-o",
                binary.toString());
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            if (p.waitFor() != 0) {
                LOG.warn("llama2.c peer skipped: {} failed:\n{}", String.join(" ", cmd), out);
                return Optional.empty();
            }
            return Optional.of(binary);
        } catch (IOException e) {
            LOG.warn("llama2.c peer skipped: cannot run gcc: {}", e.getMessage());
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** Decodes {@code spec} on the llama2.c checkpoint in {@code llama2cDir} (model.bin, tokenizer.bin). */
    public DecodeResult run(Path llama2cDir, DecodeSpec spec) {
        for (int i = 0; i < spec.warmupRuns(); i++) {
            runOnce(llama2cDir, spec);
        }
        List<Double> seconds = new ArrayList<>();
        for (int i = 0; i < spec.runs(); i++) {
            seconds.add(spec.tokens() / runOnce(llama2cDir, spec));
        }
        return new DecodeResult("llama2.c", spec.dtype(), spec.threads(), spec.tokens(), seconds,
                "run.c, gcc -Ofast -fopenmp -march=native, OMP_NUM_THREADS=" + spec.threads());
    }

    /** One process; returns the tok/s it reports. */
    private double runOnce(Path dir, DecodeSpec spec) {
        List<String> cmd = List.of(binary.toString(), dir.resolve("model.bin").toString(), "-z",
                dir.resolve("tokenizer.bin").toString(), "-t", "0", "-n", Integer.toString(spec.positions()));
        Path err = null;
        try {
            err = Files.createTempFile("llama2c-", ".log");
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(err.toFile());
            pb.environment().put("OMP_NUM_THREADS", Integer.toString(spec.threads()));
            Process p = pb.start();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new IllegalStateException("llama2.c did not finish in " + TIMEOUT_SECONDS + " s: " + cmd);
            }
            String log = Files.readString(err, StandardCharsets.ISO_8859_1);
            return parseRate(log).orElseThrow(() -> new IllegalStateException("llama2.c exited with "
                    + p.exitValue() + " and printed no rate: " + cmd + "\n" + log));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run llama2.c: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for llama2.c", e);
        } finally {
            if (err != null) {
                try {
                    Files.deleteIfExists(err);
                } catch (IOException e) {
                    LOG.debug("cannot delete {}: {}", err, e.getMessage());
                }
            }
        }
    }

    /** The rate in run.c's {@code achieved tok/s: X} line. */
    static Optional<Double> parseRate(String stderr) {
        Matcher m = RATE.matcher(stderr);
        Double rate = null;
        while (m.find()) {
            rate = Double.parseDouble(m.group(1));
        }
        return Optional.ofNullable(rate).filter(r -> r > 0);
    }
}
