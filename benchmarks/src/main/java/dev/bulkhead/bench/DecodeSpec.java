package dev.bulkhead.bench;

import java.nio.file.Path;

/**
 * What one engine is asked to decode: greedy from BOS, {@code tokens} timed steps after one untimed first
 * step (which faults the weights in, as llama2.c's timer also skips), {@code warmupRuns} untimed runs to let
 * the JIT compile, then {@code runs} timed runs, each from position 0.
 *
 * @param modelDir   checkpoint directory (Hugging Face layout)
 * @param dtype      weight storage type the checkpoint holds, lower case, for the report
 * @param threads    threads the engine may use
 * @param tokens     decode steps timed per run
 * @param warmupRuns untimed runs first
 * @param runs       timed runs
 */
public record DecodeSpec(Path modelDir, String dtype, int threads, int tokens, int warmupRuns, int runs) {

    public DecodeSpec {
        if (modelDir == null) {
            throw new IllegalArgumentException("modelDir must be set");
        }
        if (threads < 1 || threads > 1024) {
            throw new IllegalArgumentException("threads must be in [1, 1024], got " + threads);
        }
        if (tokens < 1 || tokens > 1_000_000) {
            throw new IllegalArgumentException("tokens must be in [1, 1000000], got " + tokens);
        }
        if (warmupRuns < 0 || warmupRuns > 100) {
            throw new IllegalArgumentException("warmupRuns must be in [0, 100], got " + warmupRuns);
        }
        if (runs < 1 || runs > 100) {
            throw new IllegalArgumentException("runs must be in [1, 100], got " + runs);
        }
    }

    /** Positions one run occupies: the untimed first step plus the timed ones. */
    public int positions() {
        return tokens + 1;
    }
}
