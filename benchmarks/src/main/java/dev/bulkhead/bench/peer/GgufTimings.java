package dev.bulkhead.bench.peer;

import java.util.List;

/**
 * One engine's speed on one GGUF file: decode (tokens generated one at a time from an empty context) and
 * prefill (one prompt as a single batch), each as the tok/s of every timed run.
 *
 * @param engine     {@code bulkhead} or {@code llama.cpp}
 * @param type       the file's type label ({@code F32}, {@code Q4_K_M}...)
 * @param threads    threads the engine was told to use
 * @param decodeTps  decode tok/s of each timed run
 * @param prefillTps prefill tok/s of each timed run
 * @param note       how it ran (harness, build, commit)
 */
public record GgufTimings(String engine, String type, int threads, List<Double> decodeTps, List<Double> prefillTps,
                          String note) {

    public GgufTimings {
        if (decodeTps.isEmpty() || prefillTps.isEmpty()) {
            throw new IllegalArgumentException(engine + " " + type + ": no timed runs");
        }
        decodeTps = List.copyOf(decodeTps);
        prefillTps = List.copyOf(prefillTps);
        note = note == null ? "" : note;
    }

    /** Best decode run (best-of-N damps noise from other work on the machine). */
    public double decode() {
        return decodeTps.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
    }

    /** Best prefill run. */
    public double prefill() {
        return prefillTps.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
    }
}
