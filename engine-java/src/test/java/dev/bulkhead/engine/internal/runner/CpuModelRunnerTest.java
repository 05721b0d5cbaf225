package dev.bulkhead.engine.internal.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The forward pass on the embedded stories260K against the independent reference: prefill logits, logits
 * through decode steps over the paged cache, ragged batches equal to single sequences.
 */
class CpuModelRunnerTest {

    @TempDir
    static Path tmp;

    static SafetensorsWeightSource source;
    static ModelWeights weights;
    static JsonNode reference;

    @BeforeAll
    static void load() throws IOException {
        Path dir = EmbeddedModel.extract(tmp);
        ModelConfig config = HfConfigReader.read(dir.resolve("config.json"));
        source = SafetensorsWeightSource.open(dir);
        weights = DecoderArchitecture.of(config.family()).bind(config, source);
        Path ref = Path.of(System.getProperty("bulkhead.shared.dir", "../shared"), "models/stories260K-hf/reference_greedy.json");
        reference = Files.exists(ref) ? new ObjectMapper().readTree(ref.toFile()) : null;
    }

    @AfterAll
    static void close() {
        source.close();
    }

    private static int[] ints(JsonNode n) {
        return IntStream.range(0, n.size()).map(i -> n.get(i).asInt()).toArray();
    }

    private static void assertLogitsMatch(float[] logits, int off, JsonNode expected) {
        for (int i = 0; i < expected.size(); i++) {
            assertThat((double) logits[off + i]).as("logit %d", i).isCloseTo(expected.get(i).asDouble(),
                    org.assertj.core.data.Offset.offset(1e-4));
        }
    }

    @Test
    void prefillLogitsMatchTheReference() {
        Assumptions.assumeTrue(reference != null, "reference_greedy.json not found in ../shared");
        int[] input = ints(reference.get("input_ids"));
        try (CpuModelRunner runner = new CpuModelRunner(weights, new CpuRunnerOptions(2, 4, 8, 16))) {
            int[] pos = IntStream.range(0, input.length).toArray();
            float[] logits = runner.forward(new BatchInput(input, pos, new int[] {0, input.length},
                    new int[][] {{5, 2, 7}}, pos));
            for (int p = 0; p < input.length; p++) {
                assertLogitsMatch(logits, p * 512, reference.get("logits").get(p));
            }
        }
    }

    @Test
    void decodeStepsOverScatteredBlocksMatchTheReference() {
        Assumptions.assumeTrue(reference != null, "reference_greedy.json not found in ../shared");
        int[] input = ints(reference.get("input_ids"));
        int[] table = {3, 0, 6};
        try (CpuModelRunner runner = new CpuModelRunner(weights, new CpuRunnerOptions(1, 2, 8, 4))) {
            for (int p = 0; p < input.length; p++) {
                float[] logits = runner.forward(BatchInput.single(new int[] {input[p]}, p, table));
                assertLogitsMatch(logits, 0, reference.get("logits").get(p));
            }
        }
    }

    @Test
    void raggedBatchEqualsEachSequenceAlone() {
        int[] a = {1, 403, 407, 261, 378};
        int[] b = {1, 300, 301};
        float[] aloneA;
        float[] aloneB;
        try (CpuModelRunner runner = new CpuModelRunner(weights, new CpuRunnerOptions(2, 4, 16, 16))) {
            aloneA = runner.forward(BatchInput.single(a, 0, new int[] {0, 1})).clone();
            aloneB = Arrays.copyOf(runner.forward(BatchInput.single(b, 0, new int[] {2})), 512);
            // a: 4 cached tokens + 1 new decode token; b: a fresh 3-token prefill; one step, no padding.
            runner.forward(BatchInput.single(Arrays.copyOf(a, 4), 0, new int[] {4, 5}));
            int[] tokens = {a[4], b[0], b[1], b[2]};
            int[] positions = {4, 0, 1, 2};
            float[] both = runner.forward(new BatchInput(tokens, positions, new int[] {0, 1, 4},
                    new int[][] {{4, 5}, {6}}, new int[] {0, 3}));
            assertThat(Arrays.copyOfRange(both, 0, 512)).containsExactly(Arrays.copyOf(aloneA, 512));
            assertThat(Arrays.copyOfRange(both, 512, 1024)).containsExactly(aloneB);
        }
    }

    /**
     * A 13-token prefill in one step (attention takes its tokens in tiles of four, the last one alone) gives the
     * logits of the same tokens fed one decode step at a time, bit for bit.
     */
    @Test
    void prefillInOneStepEqualsOneTokenAtATime() {
        int[] tokens = {1, 403, 407, 261, 378, 300, 301, 17, 42, 99, 250, 311, 5};
        int[] table = {5, 2, 7, 1};
        int n = tokens.length;
        try (CpuModelRunner runner = new CpuModelRunner(weights, new CpuRunnerOptions(2, 4, 8, 16))) {
            int[] pos = IntStream.range(0, n).toArray();
            float[] together = runner.forward(new BatchInput(tokens, pos, new int[] {0, n}, new int[][] {table},
                    pos)).clone();
            for (int p = 0; p < n; p++) {
                float[] alone = runner.forward(BatchInput.single(new int[] {tokens[p]}, p, table));
                assertThat(Arrays.copyOfRange(together, p * 512, (p + 1) * 512)).as("position %d", p)
                        .containsExactly(Arrays.copyOf(alone, 512));
            }
        }
    }

    @Test
    void rejectsBadBatches() {
        try (CpuModelRunner runner = new CpuModelRunner(weights, new CpuRunnerOptions(1, 4, 2, 4))) {
            assertThatThrownBy(() -> runner.forward(BatchInput.single(new int[] {1, 2, 3, 4, 5}, 0, new int[] {0, 1})))
                    .hasMessageContaining("maxBatchTokens");
            assertThatThrownBy(() -> runner.forward(BatchInput.single(new int[] {512}, 0, new int[] {0})))
                    .hasMessageContaining("token id 512");
            assertThatThrownBy(() -> runner.forward(BatchInput.single(new int[] {1}, 8, new int[] {0, 1})))
                    .hasMessageContaining("position 8");
            assertThatThrownBy(() -> runner.forward(BatchInput.single(new int[] {1}, 0, new int[] {9})))
                    .hasMessageContaining("block 9");
        }
    }
}
