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
 * issue's table (decode rows, then prefill rows, then long-prompt prefill rows and batched rows; Bulkhead,
 * llama.cpp and their ratio) and written as JSON
 * with every run and the settings (both commits, machine, load).
 */
public final class PeerReport {

    /** Engine name of Bulkhead runs on an older build (see LlamaCppPeerBench's --baseline-classpath). */
    public static final String BASELINE = "bulkhead-baseline";

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

    /** The markdown table: one row per (work, type), best run of each engine, Bulkhead / llama.cpp. */
    public String markdown() {
        boolean baseline = results.stream().anyMatch(t -> t.engine().equals(BASELINE));
        StringBuilder sb = new StringBuilder();
        sb.append(baseline ? "| work | Bulkhead before tok/s | Bulkhead tok/s | llama.cpp tok/s | ratio |\n|---|---:|---:|---:|---:|\n"
                : "| work | Bulkhead tok/s | llama.cpp tok/s | ratio |\n|---|---:|---:|---:|\n");
        List<String> types = results.stream().map(GgufTimings::type).distinct().toList();
        for (String work : List.of("decode", "prefill")) {
            for (String type : types) {
                double a = rate("bulkhead", type, work);
                double b = rate("llama.cpp", type, work);
                String before = baseline ? String.format(Locale.ROOT, " %.1f |", rate(BASELINE, type, work)) : "";
                sb.append(String.format(Locale.ROOT, "| %s %s |%s %.1f | %.1f | %.2f |%n", work, type, before, a, b, a / b));
            }
        }
        for (String type : longPrompt.stream().map(GgufTimings::type).distinct().toList()) {
            double a = longRate("bulkhead", type);
            double b = longRate("llama.cpp", type);
            String before = baseline ? String.format(Locale.ROOT, " %.1f |", longRate(BASELINE, type)) : "";
            sb.append(String.format(Locale.ROOT, "| prefill %s, %d-token prompt |%s %.1f | %.1f | %.2f |%n", type,
                    longPromptTokens, before, a, b, a / b));
        }
        for (BatchedTimings ours : batched.stream().filter(b -> b.engine().equals("bulkhead")).toList()) {
            double theirs = batched.stream().filter(b -> b.engine().equals("llama.cpp") && b.type().equals(ours.type())
                    && b.sequences() == ours.sequences()).mapToDouble(BatchedTimings::decode).findFirst().orElse(Double.NaN);
            String before = baseline ? " |" : "";
            sb.append(String.format(Locale.ROOT, "| %d sequences × %d tokens, %s, aggregate |%s %.1f | %.1f | %.2f |%n",
                    ours.sequences(), ours.genTokens(), ours.type(), before, ours.decode(), theirs,
                    ours.decode() / theirs));
        }
        return sb.toString();
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
