package dev.bulkhead.it.chaos;

import dev.bulkhead.model.embedded.EmbeddedModel;
import dev.bulkhead.model.synth.ModelShapes;
import dev.bulkhead.model.synth.RandomCheckpointGenerator;
import dev.bulkhead.model.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The chaos test's router config file: four tiny models (three random tiny-llama checkpoints and the embedded
 * stories260K) with the outage's fallback chains, drills on, and every model's steps slowed by a few milliseconds
 * (standing in for device time, so latencies are the models' and not a busy CI machine's noise). Faults are injected
 * by rewriting the file: hot reload applies the difference.
 */
final class ChaosConfig {

    static final List<String> MODELS = List.of("large-v3", "large-v2", "large-v1", "small-v1");
    /** Added to every CPU step: the stand-in for device time. */
    static final int STEP_MILLIS = Integer.getInteger("bulkhead.chaos.stepMillis", 8);
    /** alias -> its primary model. */
    static final Map<String, String> ALIASES = Map.of("large", "large-v3", "large-prev", "large-v2",
            "large-old", "large-v1", "small", "small-v1");

    private final Path file;
    private final boolean emulated;
    private final Map<String, List<String>> faults = new LinkedHashMap<>();

    /** @param emulated the models run on the CUDA emulator: slower steps, so longer liveness and deadlines */
    ChaosConfig(Path file, boolean emulated) throws IOException {
        this.file = file;
        this.emulated = emulated;
        write();
    }

    Path file() {
        return file;
    }

    static String alias(String model) {
        return ALIASES.entrySet().stream().filter(e -> e.getValue().equals(model)).findFirst().orElseThrow().getKey();
    }

    /** Lists {@code fault} for {@code model} (hot reload injects it). */
    void inject(String model, String fault) throws IOException {
        faults.computeIfAbsent(model, m -> new ArrayList<>()).add(fault);
        write();
    }

    /** Drops {@code fault} of {@code model} from the file (hot reload clears it). */
    void clear(String model, String fault) throws IOException {
        faults.getOrDefault(model, new ArrayList<>()).remove(fault);
        write();
    }

    private void write() throws IOException {
        StringBuilder models = new StringBuilder();
        StringBuilder inject = new StringBuilder();
        for (String m : MODELS) {
            String src = m.equals("small-v1") ? EmbeddedModel.extract().toString()
                    : tinyCheckpoint(file.getParent(), m, m.charAt(m.length() - 1));
            models.append("""
                      - name: %s
                        source: %s
                        memoryBudgetBytes: 8388608
                        engine: {threads: 1, kvCacheBytes: 1048576, maxModelLen: 128, maxRunning: 16}
                        breaker: {window: 20, minimumCalls: 10, failureRatePct: 50, slowCallMillis: %d, openMillis: 1000, halfOpenCalls: 3}
                        health: {livenessTimeoutMillis: %d, readinessIntervalMillis: 200, readinessTimeoutMillis: %d}
                    """.formatted(m, src, emulated ? 5000 : 1000, emulated ? 5000 : 1000, emulated ? 2000 : 500));
            List<String> f = new ArrayList<>(List.of("SLOW_STEPS"));
            f.addAll(faults.getOrDefault(m, List.of()));
            inject.append("    ").append(m).append(": [").append(String.join(", ", f)).append("]\n");
        }
        String text = "nodeMemoryBytes: 268435456\nmodels:\n" + models + """
                routing:
                  version: 1
                  routes:
                    large:      {targets: [{model: large-v3}], fallbacks: [large-v2, small-v1, cache]}
                    large-prev: {targets: [{model: large-v2}], fallbacks: [large-v1, small-v1, cache]}
                    large-old:  {targets: [{model: large-v1}], fallbacks: [small-v1, cache]}
                    small:      {targets: [{model: small-v1}], fallbacks: [large-v1, cache]}
                watchdog: {tickMillis: 25, maxRestarts: 3, backoffBaseMillis: 100, backoffMaxMillis: 1000, deadRetryMillis: 2000, reloadMillis: 100}
                policy: {defaultDeadlineMillis: %d, attemptShare: 0.5, minAttemptMillis: 250, attemptSlack: 4, retryBudgetRatio: 0.5, retryBudgetBurst: 20}
                faults:
                  enabled: true
                  slowStepMillis: %d
                  inject:
                """.formatted(emulated ? 10_000 : 2_000, emulated ? 1 : STEP_MILLIS) + inject;
        // NOTE: written whole to a temporary file and moved, so hot reload never reads half a file.
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** A random-weight tiny-llama checkpoint (stories260K tokenizer), written once. */
    static synchronized String tinyCheckpoint(Path dir, String name, long seed) {
        Path out = dir.resolve("models").resolve(name + "-" + seed).toAbsolutePath();
        if (!Files.isRegularFile(out.resolve("config.json"))) {
            RandomCheckpointGenerator.generate(ModelShapes.get("tiny-llama"), DType.F32, seed, out,
                    EmbeddedModel.extract());
        }
        return out.toString();
    }
}
