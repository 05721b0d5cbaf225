package dev.bulkhead.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulkhead.model.config.ModelConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The results of a decode benchmark against the machine's bandwidth: each row's weight traffic
 * ({@link WeightTraffic} bytes × tok/s), its share of the read bandwidth measured at the same thread count,
 * and its speed relative to Jlama and llama2.c on the same dtype and thread count. Prints a table and writes
 * the same numbers, plus every run's time, as JSON.
 */
public final class DecodeReport {

    private final String shape;
    private final ModelConfig config;
    private final Map<Integer, Double> bandwidth = new TreeMap<>();
    private final Map<String, Long> bytesPerToken = new TreeMap<>();
    private final List<DecodeResult> results = new ArrayList<>();
    private final Map<String, Object> settings = new TreeMap<>();

    public DecodeReport(String shape, ModelConfig config) {
        this.shape = shape;
        this.config = config;
    }

    /** Records the read bandwidth in bytes/s measured with {@code threads} threads. */
    public void bandwidth(int threads, double bytesPerSecond) {
        bandwidth.put(threads, bytesPerSecond);
    }

    /** Records the weight bytes one decode step streams for {@code dtype}. */
    public void bytesPerToken(String dtype, long bytes) {
        bytesPerToken.put(dtype, bytes);
    }

    /** Records a benchmark setting for the JSON (tokens, runs, seed, load average...). */
    public void setting(String name, Object value) {
        settings.put(name, value);
    }

    public void add(DecodeResult r) {
        results.add(r);
    }

    public List<DecodeResult> results() {
        return List.copyOf(results);
    }

    /** Weight GB/s (1e9) of {@code r}'s best run. */
    public double weightGBps(DecodeResult r) {
        return bytesPerToken.getOrDefault(r.dtype(), 0L) * r.bestTokensPerSecond() / 1e9;
    }

    /** Fraction of the bandwidth measured at {@code r}'s thread count; empty when not measured. */
    public Optional<Double> bandwidthFraction(DecodeResult r) {
        Double bw = bandwidth.get(r.threads());
        return bw == null ? Optional.empty() : Optional.of(weightGBps(r) * 1e9 / bw);
    }

    /** {@code r}'s best tok/s over {@code engine}'s on the same dtype and threads; empty without that row. */
    public Optional<Double> ratio(DecodeResult r, String engine) {
        return results.stream()
                .filter(o -> o.engine().equals(engine) && o.dtype().equals(r.dtype()) && o.threads() == r.threads())
                .findFirst()
                .map(o -> r.bestTokensPerSecond() / o.bestTokensPerSecond());
    }

    /** The table printed at the end of a run. */
    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "decode, %s (dim %d, %d layers, %d heads, vocab %d), best of runs%n",
                shape, config.hiddenSize(), config.numLayers(), config.numHeads(), config.vocabSize()));
        bandwidth.forEach((t, bw) -> sb.append(String.format(Locale.ROOT, "measured read bandwidth, %d thread(s): %.1f GB/s%n",
                t, bw / 1e9)));
        bytesPerToken.forEach((d, b) -> sb.append(String.format(Locale.ROOT, "weights streamed per token, %s: %.1f MB%n",
                d, b / 1e6)));
        String fmt = "%-20s %-5s %7s %9s %9s %11s %8s %8s %10s%n";
        sb.append(String.format(Locale.ROOT, fmt, "engine", "dtype", "threads", "tok/s", "median", "weight GB/s",
                "% of bw", "x jlama", "x llama2.c"));
        for (DecodeResult r : results) {
            sb.append(String.format(Locale.ROOT, fmt, r.engine(), r.dtype(), r.threads(),
                    num(r.bestTokensPerSecond(), 1), num(r.medianTokensPerSecond(), 1), num(weightGBps(r), 1),
                    bandwidthFraction(r).map(f -> num(100 * f, 0) + "%").orElse("-"),
                    ratio(r, "jlama").map(x -> num(x, 2)).orElse("-"),
                    ratio(r, "llama2.c").map(x -> num(x, 2)).orElse("-")));
        }
        return sb.toString();
    }

    /** Writes the report as JSON to {@code file} (parent directories created). */
    public void writeJson(Path file) {
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = om.createObjectNode();
        root.put("benchmark", "decode");
        root.put("shape", shape);
        ObjectNode dims = root.putObject("model");
        dims.put("hidden", config.hiddenSize());
        dims.put("intermediate", config.intermediateSize());
        dims.put("layers", config.numLayers());
        dims.put("heads", config.numHeads());
        dims.put("kvHeads", config.numKvHeads());
        dims.put("vocab", config.vocabSize());
        root.set("settings", om.valueToTree(settings));
        ObjectNode bw = root.putObject("readBandwidthGBps");
        bandwidth.forEach((t, b) -> bw.put(Integer.toString(t), round(b / 1e9, 2)));
        root.set("weightBytesPerToken", om.valueToTree(bytesPerToken));
        ArrayNode rows = root.putArray("results");
        for (DecodeResult r : results) {
            ObjectNode row = rows.addObject();
            row.put("engine", r.engine());
            row.put("dtype", r.dtype());
            row.put("threads", r.threads());
            row.put("tokens", r.tokens());
            row.put("bestTokPerSec", round(r.bestTokensPerSecond(), 2));
            row.put("medianTokPerSec", round(r.medianTokensPerSecond(), 2));
            row.put("weightGBps", round(weightGBps(r), 2));
            bandwidthFraction(r).ifPresent(f -> row.put("fractionOfBandwidth", round(f, 4)));
            ratio(r, "jlama").ifPresent(x -> row.put("vsJlama", round(x, 3)));
            ratio(r, "llama2.c").ifPresent(x -> row.put("vsLlama2c", round(x, 3)));
            ArrayNode runs = row.putArray("runSeconds");
            r.runSeconds().forEach(s -> runs.add(round(s, 4)));
            row.put("note", r.note());
        }
        try {
            if (file.toAbsolutePath().getParent() != null) {
                Files.createDirectories(file.toAbsolutePath().getParent());
            }
            om.writeValue(file.toFile(), root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static String num(double v, int decimals) {
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    private static double round(double v, int decimals) {
        double scale = Math.pow(10, decimals);
        return Math.round(v * scale) / scale;
    }
}
