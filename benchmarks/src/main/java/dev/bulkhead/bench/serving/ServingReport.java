package dev.bulkhead.bench.serving;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * The JSON of one serving run: its settings, the machine, the summary, and one row per request (so a
 * reader can recompute any statistic), plus a one-line text form for the console.
 */
public final class ServingReport {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ServingReport() {
    }

    /**
     * Writes {@code result} to {@code file}.
     *
     * @param settings what the run was: model, rate, trace parameters, engine sizing (any JSON-able values)
     */
    public static void write(Path file, Map<String, Object> settings, BenchEnvironment environment,
                             TraceReplayer.Result result) {
        ObjectNode root = JSON.createObjectNode();
        root.put("benchmark", "serving");
        root.set("settings", JSON.valueToTree(settings));
        root.set("environment", JSON.valueToTree(environment));
        root.set("summary", JSON.valueToTree(result.summary()));
        ArrayNode rows = root.putArray("requests");
        for (RequestTiming r : result.requests()) {
            ObjectNode row = rows.addObject();
            row.put("id", r.requestId());
            row.put("arrivalMillis", round((r.scheduledNanos() - result.startNanos()) / 1e6));
            row.put("promptTokens", r.promptTokens());
            row.put("maxTokens", r.maxTokens());
            row.put("outputTokens", r.outputTokens());
            putFinite(row, "ttftMillis", r.ttftMillis());
            putFinite(row, "tpotMillis", r.tpotMillis());
            putFinite(row, "e2eMillis", r.e2eMillis());
            row.put("finishReason", r.finishReason());
            if (r.error() != null) {
                row.put("error", r.error());
            }
        }
        try {
            if (file.toAbsolutePath().getParent() != null) {
                Files.createDirectories(file.toAbsolutePath().getParent());
            }
            JSON.writeValue(file.toFile(), root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** One console line: throughput and the p50/p99 of TTFT, TPOT and ITL. */
    public static String line(String label, ServingSummary s) {
        return String.format(Locale.ROOT, "%-8s %3d/%-3d ok  %6.2f req/s  %7.1f out tok/s  TTFT p50 %7.0f p99 %7.0f ms"
                        + "  TPOT p50 %6.1f p99 %6.1f ms  ITL p50 %6.1f p90 %6.1f p99 %6.1f ms", label, s.completed(),
                s.numRequests(), s.requestThroughput(), s.outputTokensPerSecond(), s.ttft().p50(), s.ttft().p99(),
                s.tpot().p50(), s.tpot().p99(), s.itl().p50(), s.itl().p90(), s.itl().p99());
    }

    private static void putFinite(ObjectNode row, String field, double v) {
        if (Double.isNaN(v)) {
            row.putNull(field);
        } else {
            row.put(field, round(v));
        }
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
