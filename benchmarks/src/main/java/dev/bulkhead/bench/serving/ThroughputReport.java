package dev.bulkhead.bench.serving;

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
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Aggregate throughput by concurrency: the best run of each level (the least disturbed by other work on the
 * machine), its speed-up over one request, and every run, as a console table and JSON ({@link ThroughputPlot}
 * draws it). NOTE: no chart library here, so the GPU run's bundle can report throughput without one.
 */
public final class ThroughputReport {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Map<Integer, List<ThroughputRun>> runs = new TreeMap<>();
    private final long flopsPerToken;

    /**
     * @param flopsPerToken matrix-multiply FLOPs of one token's forward pass (2 x weights used), to report
     *                      the GFLOP/s a rate implies; 0 when unknown
     */
    public ThroughputReport(long flopsPerToken) {
        if (flopsPerToken < 0) {
            throw new IllegalArgumentException("flopsPerToken must be >= 0, got " + flopsPerToken);
        }
        this.flopsPerToken = flopsPerToken;
    }

    /**
     * Matrix-multiply FLOPs per token of a Llama-style model: 2 x (per layer Q, K, V, O and the three FFN
     * projections, plus the LM head). Attention over the context is left out: at these lengths it is a few
     * per cent.
     */
    public static long matmulFlopsPerToken(ModelConfig c) {
        long h = c.hiddenSize();
        long perLayer = h * c.qDim() + 2 * h * c.kvDim() + (long) c.qDim() * h + 3 * h * c.intermediateSize();
        return 2 * (c.numLayers() * perLayer + (long) c.vocabSize() * h);
    }

    public void add(ThroughputRun run) {
        runs.computeIfAbsent(run.concurrency(), c -> new ArrayList<>()).add(run);
    }

    /** The concurrency levels measured, ascending. */
    public List<Integer> levels() {
        return List.copyOf(runs.keySet());
    }

    /** The run of {@code concurrency} with the highest decode rate (total rate when there is no window). */
    public ThroughputRun best(int concurrency) {
        List<ThroughputRun> list = runs.get(concurrency);
        if (list == null) {
            throw new IllegalArgumentException("no run at concurrency " + concurrency);
        }
        return list.stream().max(Comparator.comparingDouble(ThroughputReport::decodeOrTotal)).orElseThrow();
    }

    private static double decodeOrTotal(ThroughputRun r) {
        return Double.isNaN(r.decodeTokensPerSecond()) ? r.totalTokensPerSecond() : r.decodeTokensPerSecond();
    }

    /** Best decode rate at {@code concurrency} over the best at the lowest level measured (1 normally). */
    public double decodeSpeedup(int concurrency) {
        return best(concurrency).decodeTokensPerSecond() / best(lowest()).decodeTokensPerSecond();
    }

    /** As {@link #decodeSpeedup} for the total rate, prefill included. */
    public double totalSpeedup(int concurrency) {
        return best(concurrency).totalTokensPerSecond() / best(lowest()).totalTokensPerSecond();
    }

    private int lowest() {
        if (runs.isEmpty()) {
            throw new IllegalStateException("no runs recorded");
        }
        return runs.keySet().iterator().next();
    }

    /** A table of the best run per level. */
    public String table() {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%11s %12s %8s %13s %8s %9s %9s %8s %8s%n",
                "concurrency", "decode tok/s", "x c=" + lowest(), "total tok/s", "x c=" + lowest(), "TTFT ms",
                "TPOT ms", "tok/step", "GFLOP/s"));
        for (int c : runs.keySet()) {
            ThroughputRun b = best(c);
            sb.append(String.format(Locale.ROOT, "%11d %12.1f %8.2f %13.1f %8.2f %9.0f %9.1f %8.2f %8.1f%n", c,
                    b.decodeTokensPerSecond(), decodeSpeedup(c), b.totalTokensPerSecond(), totalSpeedup(c),
                    b.meanTtftMillis(), b.meanTpotMillis(), (double) b.outputTokens() / Math.max(1, b.engineSteps()),
                    b.decodeTokensPerSecond() * flopsPerToken / 1e9));
        }
        return sb.toString();
    }

    /** Writes the JSON with {@code settings} and {@code environment}. */
    public void writeJson(Path file, Map<String, Object> settings, BenchEnvironment environment) {
        ObjectNode root = JSON.createObjectNode();
        root.put("benchmark", "throughput");
        root.set("settings", JSON.valueToTree(settings));
        root.set("environment", JSON.valueToTree(environment));
        ArrayNode levels = root.putArray("levels");
        for (int c : runs.keySet()) {
            ObjectNode level = levels.addObject();
            ThroughputRun b = best(c);
            level.put("concurrency", c);
            level.put("decodeTokensPerSecond", round(b.decodeTokensPerSecond()));
            level.put("decodeSpeedup", round(decodeSpeedup(c)));
            level.put("totalTokensPerSecond", round(b.totalTokensPerSecond()));
            level.put("totalSpeedup", round(totalSpeedup(c)));
            if (flopsPerToken > 0) {
                level.put("decodeGflopsPerSecond", round(b.decodeTokensPerSecond() * flopsPerToken / 1e9));
            }
            level.set("runs", JSON.valueToTree(runs.get(c)));
        }
        try {
            createParent(file);
            JSON.writeValue(file.toFile(), root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static void createParent(Path file) throws IOException {
        if (file.toAbsolutePath().getParent() != null) {
            Files.createDirectories(file.toAbsolutePath().getParent());
        }
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
