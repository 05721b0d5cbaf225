package dev.bulkhead.bench.peer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The peer benchmark's results: per GGUF type one {@link GgufTimings} for each engine, printed as the
 * table of docs/benchmarks.md (decode rows, then prefill rows, then long-prompt prefill rows and batched rows;
 * Bulkhead, llama.cpp and their ratio) and written as JSON
 * with every run and the settings (both commits, machine, load).
 */
public final class PeerReport {

    /** Engine name of Bulkhead runs on an older build (see LlamaCppPeerBench's --baseline-classpath). */
    public static final String BASELINE = "bulkhead-baseline";
    /** Engine name of Bulkhead runs with extra JVM flags (see LlamaCppPeerBench's --variant-flags). */
    public static final String VARIANT = "bulkhead-variant";

    private final Map<String, Object> settings = new LinkedHashMap<>();
    private final List<GgufTimings> results = new ArrayList<>();
    private final List<BatchedTimings> batched = new ArrayList<>();
    private final List<GgufTimings> longPrompt = new ArrayList<>();
    private int longPromptTokens;

    public void setting(String name, Object value) {
        settings.put(name, value);
    }

    public void add(GgufTimings t) {
        results.add(t);
    }

    /** A prefill of one {@code promptTokens}-token prompt (every call of a report with the same length). */
    public void addLongPrompt(int promptTokens, GgufTimings t) {
        longPromptTokens = promptTokens;
        longPrompt.add(t);
    }

    public void addBatched(BatchedTimings t) {
        batched.add(t);
    }

    /** One engine's runs of one batched configuration (one invocation each) as a single entry. */
    static BatchedTimings mergeRuns(List<BatchedTimings> runs) {
        BatchedTimings first = runs.getFirst();
        return new BatchedTimings(first.engine(), first.type(), first.sequences(), first.promptTokens(),
                first.genTokens(), runs.stream().flatMap(r -> r.decodeTps().stream()).toList(),
                runs.stream().flatMap(r -> r.prefillTps().stream()).toList(), first.note());
    }

    /**
     * The markdown table: one row per (work, type), best run of each engine, Bulkhead / llama.cpp; with a
     * {@link #BASELINE} a "before" column first, with a {@link #VARIANT} its column and its own ratio last.
     */
    public String markdown() {
        boolean baseline = results.stream().anyMatch(t -> t.engine().equals(BASELINE));
        boolean variant = results.stream().anyMatch(t -> t.engine().equals(VARIANT))
                || batched.stream().anyMatch(b -> b.engine().equals(VARIANT));
        StringBuilder sb = new StringBuilder("| work |");
        sb.append(baseline ? " Bulkhead before tok/s |" : "").append(" Bulkhead tok/s |");
        sb.append(variant ? " Bulkhead variant tok/s |" : "").append(" llama.cpp tok/s | ratio |");
        sb.append(variant ? " variant ratio |" : "").append("\n|---|");
        sb.append("---:|".repeat(3 + (baseline ? 1 : 0) + (variant ? 2 : 0))).append('\n');
        List<String> types = results.stream().map(GgufTimings::type).distinct().toList();
        for (String work : List.of("decode", "prefill")) {
            for (String type : types) {
                row(sb, work + " " + type, baseline ? rate(BASELINE, type, work) : null, rate("bulkhead", type, work),
                        variant ? rate(VARIANT, type, work) : null, rate("llama.cpp", type, work));
            }
        }
        for (String type : longPrompt.stream().map(GgufTimings::type).distinct().toList()) {
            row(sb, String.format(Locale.ROOT, "prefill %s, %d-token prompt", type, longPromptTokens),
                    baseline ? longRate(BASELINE, type) : null, longRate("bulkhead", type),
                    variant ? longRate(VARIANT, type) : null, longRate("llama.cpp", type));
        }
        for (BatchedTimings ours : batched.stream().filter(b -> b.engine().equals("bulkhead")).toList()) {
            row(sb, String.format(Locale.ROOT, "%d sequences × %d tokens, %s, aggregate", ours.sequences(),
                            ours.genTokens(), ours.type()), baseline ? Double.NaN : null, ours.decode(),
                    variant ? batchedRate(VARIANT, ours) : null, batchedRate("llama.cpp", ours));
        }
        return sb.toString();
    }

    /** One table row; a null rate is a column the table does not have, NaN one with no measurement. */
    private static void row(StringBuilder sb, String work, Double before, double ours, Double variant, double theirs) {
        sb.append("| ").append(work).append(" |");
        if (before != null) {
            sb.append(cell(before));
        }
        sb.append(cell(ours));
        if (variant != null) {
            sb.append(cell(variant));
        }
        sb.append(cell(theirs)).append(String.format(Locale.ROOT, " %.2f |", ours / theirs));
        if (variant != null) {
            sb.append(String.format(Locale.ROOT, " %.2f |", variant / theirs));
        }
        sb.append('\n');
    }

    private static String cell(double rate) {
        return Double.isNaN(rate) ? " |" : String.format(Locale.ROOT, " %.1f |", rate);
    }

    private double batchedRate(String engine, BatchedTimings like) {
        return batched.stream().filter(b -> b.engine().equals(engine) && b.type().equals(like.type())
                && b.sequences() == like.sequences()).mapToDouble(BatchedTimings::decode).findFirst().orElse(Double.NaN);
    }

    private double rate(String engine, String type, String work) {
        return find(engine, type).map(t -> work.equals("decode") ? t.decode() : t.prefill()).orElse(Double.NaN);
    }

    private double longRate(String engine, String type) {
        return longPrompt.stream().filter(t -> t.engine().equals(engine) && t.type().equals(type)).findFirst()
                .map(GgufTimings::prefill).orElse(Double.NaN);
    }

    private Optional<GgufTimings> find(String engine, String type) {
        return results.stream().filter(t -> t.engine().equals(engine) && t.type().equals(type)).findFirst();
    }

    public void writeJson(Path file) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("settings", settings);
        root.put("results", results);
        root.put("batched", batched);
        root.put("longPromptTokens", longPromptTokens);
        root.put("longPrompt", longPrompt);
        root.put("table", markdown());
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    public void writeMarkdown(Path file) {
        StringBuilder sb = new StringBuilder("# Bulkhead vs llama.cpp on the same GGUF files\n\n");
        settings.forEach((k, v) -> sb.append("- ").append(k).append(": ").append(v).append('\n'));
        sb.append('\n').append(markdown());
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(file, sb.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
