package dev.bulkhead.engine.internal.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.cuemu.GpuTarget;
import dev.bulkhead.engine.internal.runner.BatchInput;
import dev.bulkhead.engine.internal.runner.CpuRunnerOptions;
import dev.bulkhead.model.arch.DecoderArchitecture;
import dev.bulkhead.model.arch.ModelWeights;
import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.embedded.EmbeddedModel;
import dev.bulkhead.model.hf.HfConfigReader;
import dev.bulkhead.model.safetensors.SafetensorsWeightSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole CUDA forward pass on stories260K: 256 greedy ids from BOS equal to the reference, and greedy ids
 * independent of the batch they run in. Logits against the CPU are {@link CudaMatchesCpuGpuTest}'s.
 */
@Tag("gpu")
class CudaModelRunnerGpuTest {

    @TempDir
    static Path tmp;

    static SafetensorsWeightSource source;
    static ModelWeights weights;
    static int[] reference;

    @BeforeAll
    static void load() throws IOException {
        GpuTarget.require();
        Path dir = EmbeddedModel.extract(tmp);
        ModelConfig config = HfConfigReader.read(dir.resolve("config.json"));
        source = SafetensorsWeightSource.open(dir);
        weights = DecoderArchitecture.of(config.family()).bind(config, source);
        Path ref = Path.of(System.getProperty("bulkhead.shared.dir", "../shared"),
                "models/stories260K-hf/reference_greedy.json");
        if (Files.exists(ref)) {
            JsonNode ids = new ObjectMapper().readTree(ref.toFile()).get("greedy_ids");
            reference = IntStream.range(0, ids.size()).map(i -> ids.get(i).asInt()).toArray();
        }
    }

    @AfterAll
    static void close() {
        if (source != null) {
            source.close();
        }
    }

    private static int[] table(int first, int count) {
        return IntStream.range(first, first + count).toArray();
    }

    /** Greedy decode of {@code steps} tokens from {@code prompt}, one prefill then one token per step. */
    private static int[] generate(CudaModelRunner r, int[] prompt, int steps, int[] blocks) {
        int[] out = new int[steps];
        int next = r.greedy(BatchInput.single(prompt, 0, blocks))[0];
        for (int i = 0; i < steps; i++) {
            out[i] = next;
            if (i + 1 < steps) {
                next = r.greedy(BatchInput.single(new int[] {next}, prompt.length + i, blocks))[0];
            }
        }
        return out;
    }

    @Test
    void greedyIdsFromBosMatchTheReferenceFor256Steps() {
        Assumptions.assumeTrue(reference != null, "reference_greedy.json not found in ../shared");
        try (CudaModelRunner r = new CudaModelRunner(weights, new CpuRunnerOptions(1, 16, 32, 64), 0)) {
            int[] ids = generate(r, new int[] {1}, 256, table(0, 17));
            assertThat(ids).containsExactly(Arrays.copyOf(reference, 256));
        }
    }

    @Test
    void greedyIdsDoNotDependOnTheBatch() {
        int[][] prompts = {{1, 403, 407}, {1, 300}, {1, 261, 378, 432, 383}};
        int steps = 40;
        int[][] alone = new int[prompts.length][];
        try (CudaModelRunner r = new CudaModelRunner(weights, new CpuRunnerOptions(1, 16, 32, 64), 0)) {
            for (int s = 0; s < prompts.length; s++) {
                alone[s] = generate(r, prompts[s], steps, table(4 * s, 4));
            }
            // All three together: one ragged prefill step, then one decode token of each per step.
            int[][] tables = {table(12, 4), table(16, 4), table(20, 4)};
            int[][] together = new int[prompts.length][steps];
            int total = Arrays.stream(prompts).mapToInt(p -> p.length).sum();
            int[] tokens = new int[total];
            int[] pos = new int[total];
            int[] starts = new int[prompts.length + 1];
            int[] last = new int[prompts.length];
            for (int s = 0, t = 0; s < prompts.length; s++) {
                starts[s] = t;
                for (int i = 0; i < prompts[s].length; i++, t++) {
                    tokens[t] = prompts[s][i];
                    pos[t] = i;
                }
                last[s] = t - 1;
                starts[s + 1] = t;
            }
            int[] next = r.greedy(new BatchInput(tokens, pos, starts, tables, last));
            for (int step = 0; step < steps; step++) {
                int[] p = new int[prompts.length];
                for (int s = 0; s < prompts.length; s++) {
                    together[s][step] = next[s];
                    p[s] = prompts[s].length + step;
                }
                if (step + 1 < steps) {
                    next = r.greedy(new BatchInput(next.clone(), p, new int[] {0, 1, 2, 3}, tables, new int[] {0, 1, 2}));
                }
            }
            for (int s = 0; s < prompts.length; s++) {
                assertThat(together[s]).as("sequence %d", s).containsExactly(alone[s]);
            }
        }
    }
}
