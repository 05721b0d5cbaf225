package dev.bulkhead.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.internal.runner.BatchInput;
import dev.bulkhead.engine.internal.runner.CpuModelRunner;
import dev.bulkhead.engine.internal.runner.CpuRunnerOptions;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.model.ModelLoader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * For every model in ../shared/models with a reference_greedy.json: greedy ids from BOS equal the reference
 * for all its steps, and the logits of the first positions match within 1e-4. The embedded default model is
 * checked against the same reference.
 */
class GoldenGreedyTest {

    private static final double LOGIT_TOLERANCE = 1e-4;

    @TestFactory
    Stream<DynamicTest> everySharedModelWithAReference() throws IOException {
        Path models = SharedData.require("models");
        List<Path> refs;
        try (Stream<Path> dirs = Files.list(models)) {
            refs = dirs.map(d -> d.resolve("reference_greedy.json")).filter(Files::isRegularFile).sorted().toList();
        }
        Assumptions.assumeFalse(refs.isEmpty(), "no reference_greedy.json under " + models);
        return refs.stream().flatMap(ref -> {
            Path dir = ref.getParent();
            String name = dir.getFileName().toString();
            return Stream.of(
                    DynamicTest.dynamicTest(name + ": greedy ids", () -> checkGreedy(modelPath(dir), ref)),
                    DynamicTest.dynamicTest(name + ": logits", () -> checkLogits(modelPath(dir), ref)));
        });
    }

    @Test
    void embeddedDefaultModelMatchesTheReference() throws IOException {
        Path ref = SharedData.require("models/stories260K-hf/reference_greedy.json");
        checkGreedy(null, ref);
        checkLogits(null, ref);
    }

    /** The checkpoint inside a model folder: a Hugging Face directory, else its .gguf or .bin file. */
    private static String modelPath(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve("config.json"))) {
            return dir.toString();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(Path::toString).filter(f -> f.endsWith(".gguf") || f.endsWith(".bin") && !f.contains("tok"))
                    .findFirst().orElseThrow(() -> new AssertionError("no checkpoint in " + dir));
        }
    }

    private static void checkGreedy(String model, Path refFile) throws IOException {
        JsonNode ref = new ObjectMapper().readTree(refFile.toFile());
        int[] expected = ints(ref.get("greedy_ids"));
        EngineOptions options = EngineOptions.defaults().withThreads(2).withMaxModelLen(512).withMaxBatchedTokens(64);
        try (LlmEngine engine = new LlmEngine(ModelLoader.load(model), options, new SimpleMeterRegistry())) {
            int[] prompt = {ref.get("bos_id").asInt()};
            SamplingParams greedy = SamplingParams.greedy(expected.length).toBuilder().ignoreEos(true).build();
            Completion r = engine.generate(GenerateRequest.ofTokens(prompt, greedy)).join();
            assertThat(r.tokenIds()).containsExactly(expected);
            assertThat(r.text()).isEqualTo(ref.get("text").asText());
        }
    }

    private static void checkLogits(String model, Path refFile) throws IOException {
        JsonNode ref = new ObjectMapper().readTree(refFile.toFile());
        int[] input = ints(ref.get("input_ids"));
        try (LoadedModel m = ModelLoader.load(model);
             CpuModelRunner runner = new CpuModelRunner(m.weights(), CpuRunnerOptions.forContext(1, 64, 16))) {
            int vocab = m.config().vocabSize();
            int[] positions = IntStream.range(0, input.length).toArray();
            float[] logits = runner.forward(new BatchInput(input, positions, new int[] {0, input.length},
                    new int[][] {IntStream.range(0, runner.numBlocks()).toArray()}, positions));
            JsonNode expected = ref.get("logits");
            assertThat(expected.size()).isEqualTo(input.length);
            for (int p = 0; p < input.length; p++) {
                JsonNode row = expected.get(p);
                assertThat(row.size()).isEqualTo(vocab);
                for (int i = 0; i < vocab; i++) {
                    assertThat((double) logits[p * vocab + i]).as("position %d logit %d", p, i)
                            .isCloseTo(row.get(i).asDouble(), within(LOGIT_TOLERANCE));
                }
            }
        }
    }

    private static int[] ints(JsonNode n) {
        return IntStream.range(0, n.size()).map(i -> n.get(i).asInt()).toArray();
    }
}
