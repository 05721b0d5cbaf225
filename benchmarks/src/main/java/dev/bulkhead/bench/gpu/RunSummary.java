package dev.bulkhead.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The summary of a GPU run ({@code summary.json}): which device ran it, how each part went (from the script's
 * {@code parts.tsv}), the headline figures of each model shape from the part files beside it, and the issue's
 * targets for the first GPU run with the measured value against each. A target is judged ({@code met} true or
 * false) only on a real device; on the emulator, or without the figures, {@code met} is null and the note says
 * why, so an emulator rehearsal can never read as a GPU result.
 */
final class RunSummary {

    /** Batch-1 decode must stream weights at this fraction of the measured device bandwidth or more. */
    static final double DECODE_FRACTION_TARGET = 0.85;
    /** Batched throughput of the 8B shape must be this many times HF transformers' or more. */
    static final double VS_HF_TARGET = 10;
    static final List<String> DECODE_TARGET_SHAPES = List.of("llama-3.2-1b", "llama-3.1-8b");
    static final String VS_HF_TARGET_SHAPE = "llama-3.1-8b";
    private static final String GRAPHS = "bulkhead-cuda-graphs";

    private final Path dir;

    RunSummary(Path dir) {
        this.dir = dir;
    }

    /** The summary of the run in {@code dir}, for {@code plannedShapes} plus any shape with a part file there. */
    ObjectNode build(List<String> plannedShapes) {
        Optional<JsonNode> device = PartFiles.read(dir.resolve("device.json"));
        String target = device.map(d -> d.path("target").asText("unknown")).orElse("unknown");
        ObjectNode root = PartFiles.part("summary", target);
        String name = device.map(d -> d.path("cuda").path("name").asText()).orElse("unknown");
        root.put("notice", switch (target) {
            case GpuDevice.DEVICE -> "measured on " + name;
            case GpuDevice.EMULATOR -> "CPU CUDA EMULATOR REHEARSAL: these figures show that the run works, they are"
                    + " not GPU figures; no target is judged";
            default -> "no device.json: the device is unknown, no target is judged";
        });
        ObjectNode dev = root.putObject("device");
        device.ifPresent(d -> {
            dev.set("cuda", d.path("cuda"));
            dev.set("nvidiaSmi", d.path("nvidiaSmi"));
        });
        root.set("parts", parts());
        root.set("tests", PartFiles.read(dir.resolve("tests.json")).orElse(null));
        Optional<Double> bandwidth = PartFiles.read(dir.resolve("bandwidth.json")).map(b -> b.path("bestGBps").asDouble());
        root.put("bandwidthGBps", bandwidth.orElse(null));
        ArrayNode models = root.putArray("models");
        for (String shape : shapes(plannedShapes)) {
            models.add(model(shape, bandwidth));
        }
        root.set("targets", targets(models, GpuDevice.DEVICE.equals(target)));
        return root;
    }

    /** The script's parts.tsv (name, status, seconds, file, note) as objects, in order. */
    private ArrayNode parts() {
        ArrayNode parts = PartFiles.JSON.createArrayNode();
        Path tsv = dir.resolve("parts.tsv");
        if (!Files.isRegularFile(tsv)) {
            return parts;
        }
        try {
            for (String line : Files.readAllLines(tsv)) {
                String[] f = line.split("\t", -1);
                if (f.length < 2 || line.isBlank()) {
                    continue;
                }
                ObjectNode p = parts.addObject();
                p.put("name", f[0]);
                p.put("status", f[1]);
                if (f.length > 2 && f[2].matches("[0-9]+")) {
                    p.put("seconds", Integer.parseInt(f[2]));
                }
                p.put("file", f.length > 3 && !f[3].isEmpty() ? f[3] : null);
                p.put("note", f.length > 4 ? f[4] : "");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + tsv + ": " + e.getMessage(), e);
        }
        return parts;
    }

    /** The planned shapes, then any other shape a part file names (decode-S.json, batched-S.json, hf-S.json). */
    private List<String> shapes(List<String> planned) {
        Set<String> shapes = new LinkedHashSet<>(planned);
        try (Stream<Path> files = Files.list(dir)) {
            files.map(p -> p.getFileName().toString()).sorted()
                    .filter(n -> n.matches("(decode|batched|hf)-.+\\.json"))
                    .forEach(n -> shapes.add(n.substring(n.indexOf('-') + 1, n.length() - ".json".length())));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        return List.copyOf(shapes);
    }

    private ObjectNode model(String shape, Optional<Double> bandwidth) {
        ObjectNode m = PartFiles.JSON.createObjectNode();
        m.put("shape", shape);
        Optional<JsonNode> decode = PartFiles.read(dir.resolve("decode-" + shape + ".json"));
        long bytesPerToken = decode.map(d -> d.path("weightBytesPerToken").path("bf16").asLong()).orElse(0L);
        m.put("weightBytesPerToken", bytesPerToken > 0 ? bytesPerToken : null);
        ArrayNode modes = m.putArray("decode");
        decode.ifPresent(d -> d.path("results").forEach(r -> {
            ObjectNode row = modes.addObject();
            row.put("engine", r.path("engine").asText());
            row.put("tokPerSec", r.path("bestTokPerSec").asDouble());
            row.put("msPerToken", PartFiles.round(1e3 / r.path("bestTokPerSec").asDouble(), 3));
            row.put("weightGBps", r.path("weightGBps").asDouble());
            row.put("fractionOfBandwidth", r.has("fractionOfBandwidth") ? r.path("fractionOfBandwidth").asDouble() : null);
        }));
        decode.map(d -> d.path("settings").path("errors")).filter(JsonNode::isObject).ifPresent(e -> m.set("decodeErrors", e));

        Optional<JsonNode> hf = PartFiles.read(dir.resolve("hf-" + shape + ".json"));
        ObjectNode hfOut = m.putObject("hf");
        hf.ifPresent(h -> {
            double tps = h.path("decode").path("bestTokPerSec").asDouble();
            hfOut.put("decodeTokPerSec", tps > 0 ? tps : null);
            hfOut.put("fractionOfBandwidth", tps > 0 && bytesPerToken > 0 && bandwidth.isPresent()
                    ? PartFiles.round(tps * bytesPerToken / (bandwidth.get() * 1e9), 3) : null);
            hfOut.set("versions", h.path("versions"));
            hfOut.set("errors", h.path("errors"));
        });

        ArrayNode levels = m.putArray("batched");
        Optional<JsonNode> batched = PartFiles.read(dir.resolve("batched-" + shape + ".json"));
        batched.ifPresent(b -> b.path("levels").forEach(l -> {
            int c = l.path("concurrency").asInt();
            ObjectNode row = levels.addObject();
            row.put("concurrency", c);
            row.put("decodeTokPerSec", positive(l.path("decodeTokensPerSecond")));
            row.put("totalTokPerSec", positive(l.path("totalTokensPerSecond")));
            Optional<JsonNode> hfLevel = hf.flatMap(h -> level(h.path("batched"), c));
            Double hfTotal = hfLevel.map(x -> positive(x.path("totalTokensPerSecond"))).orElse(null);
            row.put("hfTotalTokPerSec", hfTotal);
            row.put("hfDecodeTokPerSec", hfLevel.map(x -> positive(x.path("decodeTokensPerSecond"))).orElse(null));
            row.put("totalVsHf", hfTotal == null || row.path("totalTokPerSec").isNull() ? null
                    : PartFiles.round(row.path("totalTokPerSec").asDouble() / hfTotal, 2));
        }));
        double peak = max(batched.map(b -> b.path("levels")), "totalTokensPerSecond");
        double hfPeak = max(hf.map(h -> h.path("batched")), "totalTokensPerSecond");
        m.put("peakTotalTokPerSec", peak > 0 ? peak : null);
        m.put("hfPeakTotalTokPerSec", hfPeak > 0 ? hfPeak : null);
        m.put("peakVsHf", peak > 0 && hfPeak > 0 ? PartFiles.round(peak / hfPeak, 2) : null);
        return m;
    }

    private static Optional<JsonNode> level(JsonNode levels, int concurrency) {
        for (JsonNode l : levels) {
            if (l.path("concurrency").asInt() == concurrency) {
                return Optional.of(l);
            }
        }
        return Optional.empty();
    }

    private static double max(Optional<JsonNode> levels, String field) {
        double best = 0;
        for (JsonNode l : levels.orElse(PartFiles.JSON.createArrayNode())) {
            best = Math.max(best, l.path(field).asDouble());
        }
        return best;
    }

    private static Double positive(JsonNode n) {
        return n.isNumber() && n.asDouble() > 0 ? n.asDouble() : null;
    }

    /** The targets for the first GPU run, each with its measured value, judged only on a device. */
    private static ArrayNode targets(ArrayNode models, boolean onDevice) {
        ArrayNode targets = PartFiles.JSON.createArrayNode();
        for (String shape : DECODE_TARGET_SHAPES) {
            Double value = find(models, shape).flatMap(m -> {
                for (JsonNode r : m.path("decode")) {
                    if (GRAPHS.equals(r.path("engine").asText()) && r.path("fractionOfBandwidth").isNumber()) {
                        return Optional.of(r.path("fractionOfBandwidth").asDouble());
                    }
                }
                return Optional.empty();
            }).orElse(null);
            targets.add(target(String.format(Locale.ROOT, "batch-1 decode >= %.0f%% of measured HBM bandwidth",
                    100 * DECODE_FRACTION_TARGET), shape, "graphs decode: weight bytes per token x tok/s / copy bandwidth",
                    DECODE_FRACTION_TARGET, value, onDevice));
        }
        Double vsHf = find(models, VS_HF_TARGET_SHAPE).map(m -> m.path("peakVsHf"))
                .filter(JsonNode::isNumber).map(JsonNode::asDouble).orElse(null);
        targets.add(target(String.format(Locale.ROOT, "batched throughput >= %.0fx HF transformers", VS_HF_TARGET),
                VS_HF_TARGET_SHAPE, "peak total tok/s (prefill included) over the concurrency levels, Bulkhead's over HF's",
                VS_HF_TARGET, vsHf, onDevice));
        return targets;
    }

    private static Optional<JsonNode> find(ArrayNode models, String shape) {
        for (JsonNode m : models) {
            if (shape.equals(m.path("shape").asText())) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }

    private static ObjectNode target(String name, String shape, String measure, double threshold, Double value,
                                     boolean onDevice) {
        ObjectNode t = PartFiles.JSON.createObjectNode();
        t.put("target", name);
        t.put("shape", shape);
        t.put("measure", measure);
        t.put("threshold", threshold);
        t.put("value", value);
        if (value == null) {
            t.putNull("met");
            t.put("note", "not measured in this run");
        } else if (!onDevice) {
            t.putNull("met");
            t.put("note", "not judged: not measured on a GPU");
        } else {
            t.put("met", value >= threshold);
            t.put("note", "");
        }
        return t;
    }

    /** A few lines for the console: device, parts, and each target. */
    static String table(JsonNode summary) {
        List<String> lines = new ArrayList<>();
        lines.add("GPU run summary (" + summary.path("target").asText() + "): " + summary.path("notice").asText());
        summary.path("parts").forEach(p -> lines.add(String.format(Locale.ROOT, "  %-24s %-10s %5s s  %s",
                p.path("name").asText(), p.path("status").asText(), p.path("seconds").asText("-"), p.path("note").asText())));
        lines.add("  copy bandwidth: " + summary.path("bandwidthGBps").asText("-") + " GB/s");
        summary.path("models").forEach(m -> {
            m.path("decode").forEach(r -> lines.add(String.format(Locale.ROOT, "  %-14s %-22s %9.1f tok/s  %s of bandwidth",
                    m.path("shape").asText(), r.path("engine").asText(), r.path("tokPerSec").asDouble(),
                    r.path("fractionOfBandwidth").isNumber()
                            ? String.format(Locale.ROOT, "%.1f%%", 100 * r.path("fractionOfBandwidth").asDouble()) : "-")));
            m.path("batched").forEach(l -> lines.add(String.format(Locale.ROOT,
                    "  %-14s batched c=%-4d %9s total tok/s, %9s decode tok/s, HF %s", m.path("shape").asText(),
                    l.path("concurrency").asInt(), l.path("totalTokPerSec").asText("-"),
                    l.path("decodeTokPerSec").asText("-"), l.path("hfTotalTokPerSec").asText("-"))));
        });
        summary.path("targets").forEach(t -> lines.add(String.format(Locale.ROOT, "  TARGET %-50s %-13s value %s met %s %s",
                t.path("target").asText(), t.path("shape").asText(), t.path("value").asText("-"),
                t.path("met").asText("-"), t.path("note").asText())));
        return String.join("\n", lines) + "\n";
    }
}
