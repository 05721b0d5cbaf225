package dev.bulkhead.server.cli;

import dev.bulkhead.engine.api.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** Sampling flags, named as in llama.cpp and vLLM. */
final class SamplingOptions {

    @Option(names = {"-n", "--max-tokens"}, paramLabel = "N", defaultValue = "256",
            description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.8",
            description = "0 = greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", description = "0 = off (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.95", description = "Nucleus mass (default: ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--min-p", paramLabel = "P", defaultValue = "0", description = "0 = off (default: ${DEFAULT-VALUE}).")
    float minP;

    @Option(names = "--repetition-penalty", paramLabel = "R", defaultValue = "1", description = "1 = off (default: ${DEFAULT-VALUE}).")
    float repetitionPenalty;

    @Option(names = "--presence-penalty", paramLabel = "P", defaultValue = "0", description = "[-2, 2] (default: ${DEFAULT-VALUE}).")
    float presencePenalty;

    @Option(names = "--frequency-penalty", paramLabel = "P", defaultValue = "0", description = "[-2, 2] (default: ${DEFAULT-VALUE}).")
    float frequencyPenalty;

    @Option(names = {"-s", "--seed"}, paramLabel = "S", description = "Same seed, same output (default: random).")
    Long seed;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop when this text appears (repeatable).")
    List<String> stop = new ArrayList<>();

    @Option(names = "--ignore-eos", description = "Keep generating past the end-of-sequence token.")
    boolean ignoreEos;

    SamplingParams params(int[] extraStopIds) {
        return SamplingParams.builder()
                .maxTokens(maxTokens)
                .temperature(temperature)
                .topK(topK)
                .topP(topP)
                .minP(minP)
                .repetitionPenalty(repetitionPenalty)
                .presencePenalty(presencePenalty)
                .frequencyPenalty(frequencyPenalty)
                .seed(seed)
                .stop(stop)
                .stopTokenIds(extraStopIds)
                .ignoreEos(ignoreEos)
                .build();
    }
}
