package dev.bulkhead.it.chaos;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The chaos test's figures: one row per phase and model, printed as a Markdown table and kept in a file. */
final class ChaosReport {

    /**
     * One model in one phase.
     *
     * @param phase      what was done, and to which model
     * @param model      the model (rows are by primary model of each alias)
     * @param affected   whether the fault hit this model
     * @param requests   requests of its alias that started in the phase's window
     * @param errors     of those, the ones not answered (any status but 200, or no answer)
     * @param degraded   of those, the ones a fallback answered
     * @param p50        median latency of the answered ones, ms
     * @param p99        99th percentile, ms
     * @param detectMs   from the fault to the first sign of it (an unready /ready, a failed or degraded answer)
     * @param recoverMs  from the fault to the model serving again (a new worker ready), -1 when it did not
     */
    record Row(String isolation, String phase, String model, boolean affected, int requests, int errors, int degraded,
               double p50, double p99, long detectMs, long recoverMs) {

        double answered() {
            return requests == 0 ? 1 : (double) (requests - errors) / requests;
        }
    }

    private final List<Row> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    synchronized void add(List<Row> r) {
        rows.addAll(r);
    }

    synchronized void note(String line) {
        notes.add(line);
        System.out.println("[chaos] " + line);
    }

    synchronized List<Row> rows() {
        return List.copyOf(rows);
    }

    static Row row(String isolation, String phase, String model, boolean affected, List<CompletionLoad.Sample> s,
                   long detectMs, long recoverMs) {
        double[] ms = s.stream().filter(CompletionLoad.Sample::ok).mapToDouble(CompletionLoad.Sample::millis).sorted()
                .toArray();
        return new Row(isolation, phase, model, affected, s.size(), (int) s.stream().filter(x -> !x.ok()).count(),
                (int) s.stream().filter(x -> x.ok() && x.degraded()).count(), pct(ms, 0.50), pct(ms, 0.99), detectMs,
                recoverMs);
    }

    static double pct(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    /** Prints the rows of {@code isolation} and appends them to {@code file}. */
    synchronized String print(String title, String isolation, Path file) throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append("\n### ").append(title).append("\n\n");
        sb.append("| phase | model | requests | errors | answered | by fallback | p50 ms | p99 ms | detect ms | recover ms |\n");
        sb.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            if (!r.isolation().equals(isolation)) {
                continue;
            }
            sb.append(String.format(Locale.ROOT, "| %s | %s%s | %d | %d | %.1f%% | %d | %.1f | %.1f | %s | %s |%n",
                    r.phase(), r.model(), r.affected() ? " (affected)" : "", r.requests(), r.errors(),
                    100 * r.answered(), r.degraded(), r.p50(), r.p99(), r.detectMs() < 0 ? "" : Long.toString(r.detectMs()),
                    !r.affected() || r.phase().equals("no fault") ? "" : r.detectMs() < 0 ? "not detected"
                            : r.recoverMs() < 0 ? "never" : Long.toString(r.recoverMs())));
        }
        notes.forEach(n -> sb.append("\n- ").append(n));
        try {
            sb.append("\n- load average at the end: ").append(Files.readString(Path.of("/proc/loadavg")).strip());
        } catch (IOException e) {
            // not Linux: no load average to record
        }
        notes.clear();
        sb.append('\n');
        System.out.println(sb);
        Files.createDirectories(file.getParent());
        Files.writeString(file, sb, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        return sb.toString();
    }
}
