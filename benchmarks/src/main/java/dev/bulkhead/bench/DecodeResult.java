package dev.bulkhead.bench;

import java.util.List;

/**
 * One engine's timed greedy decode of one configuration.
 *
 * @param engine      {@code bulkhead}, {@code jlama} or {@code llama2.c}
 * @param dtype       weight storage type, lower case ({@code f32}, {@code bf16})
 * @param threads     threads the engine was told to use
 * @param tokens      decode steps timed per run (the first step of a run, which faults in the weights, is not)
 * @param runSeconds  wall time of each timed run, in order
 * @param note        what else the engine reported (its tensor-ops provider, an early stop); may be empty
 */
public record DecodeResult(String engine, String dtype, int threads, int tokens, List<Double> runSeconds, String note) {

    public DecodeResult {
        if (engine == null || engine.isBlank()) {
            throw new IllegalArgumentException("engine must be non-blank");
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (tokens < 1) {
            throw new IllegalArgumentException("tokens must be >= 1, got " + tokens);
        }
        if (runSeconds == null || runSeconds.isEmpty()) {
            throw new IllegalArgumentException("runSeconds must hold at least one run");
        }
        for (double s : runSeconds) {
            if (!(s > 0)) {
                throw new IllegalArgumentException("runSeconds must be positive, got " + runSeconds);
            }
        }
        runSeconds = List.copyOf(runSeconds);
        note = note == null ? "" : note;
    }

    /** Tokens per second of the fastest run (best-of-N damps noise from other work on the machine). */
    public double bestTokensPerSecond() {
        return tokens / runSeconds.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
    }

    /** Tokens per second of the median run. */
    public double medianTokensPerSecond() {
        double[] s = runSeconds.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double median = s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
        return tokens / median;
    }
}
