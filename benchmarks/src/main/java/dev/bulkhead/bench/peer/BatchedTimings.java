package dev.bulkhead.bench.peer;

import java.util.List;

/**
 * One engine's aggregate speed with many sequences at once on one GGUF file, as {@code llama-batched-bench}
 * measures it: each of {@code sequences} sequences prefills a prompt of {@code promptTokens}, then all of them
 * decode {@code genTokens} tokens together, one token per sequence per step.
 *
 * @param engine       {@code bulkhead} or {@code llama.cpp}
 * @param type         the file's type label
 * @param sequences    sequences decoding together
 * @param promptTokens prompt tokens per sequence
 * @param genTokens    decode steps (tokens per sequence)
 * @param decodeTps    aggregate decode tok/s of each timed run: {@code sequences * genTokens / decode seconds}
 * @param prefillTps   aggregate prefill tok/s of each timed run: {@code sequences * promptTokens / seconds}
 * @param note         how it ran
 */
public record BatchedTimings(String engine, String type, int sequences, int promptTokens, int genTokens,
                             List<Double> decodeTps, List<Double> prefillTps, String note) {

    public BatchedTimings {
        if (decodeTps.isEmpty() || prefillTps.isEmpty()) {
            throw new IllegalArgumentException(engine + " " + type + " x" + sequences + ": no timed runs");
        }
        decodeTps = List.copyOf(decodeTps);
        prefillTps = List.copyOf(prefillTps);
        note = note == null ? "" : note;
    }

    /** Best aggregate decode run. */
    public double decode() {
        return decodeTps.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
    }
}
