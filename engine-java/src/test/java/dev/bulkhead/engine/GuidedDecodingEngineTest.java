package dev.bulkhead.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.FinishReason;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.GuidedDecoding;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.internal.guided.JsonAutomaton;
import dev.bulkhead.engine.internal.guided.JsonGrammar;
import dev.bulkhead.model.ModelLoader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Guided decoding end to end on the embedded stories260K, a model that has never seen JSON. */
class GuidedDecodingEngineTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_TOKENS = 200;
    private static final int SEEDS = 12;
    private static final String SCHEMA = """
            {"type": "object",
             "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
                            "pets": {"type": "array", "items": {"enum": ["cat", "dog"]}, "maxItems": 3},
                            "happy": {"type": "boolean"}},
             "required": ["name", "age", "happy"]}""";

    private static LlmEngine engine;

    @BeforeAll
    static void start() {
        // 2 threads, 16-token blocks, 256-token context; the pool holds about two full requests at a time, so
        // a dozen concurrent ones get preempted and recomputed.
        long bytesPerToken = 2L * 5 * 32 * Float.BYTES; // stories260K: 5 layers, 4 kv heads x 8
        EngineOptions options = EngineOptions.defaults().withThreads(2).withBlockSize(16).withMaxBatchedTokens(64)
                .withMaxRunning(16).withMaxModelLen(256).withKvCacheBytes(33 * 16 * bytesPerToken);
        engine = new LlmEngine(ModelLoader.load(null), options, new SimpleMeterRegistry());
    }

    @AfterAll
    static void stop() {
        engine.close();
    }

    private static List<Completion> run(GuidedDecoding format) throws Exception {
        List<CompletableFuture<Completion>> futures = new ArrayList<>();
        for (long seed = 0; seed < SEEDS; seed++) {
            SamplingParams p = SamplingParams.builder().temperature(1f).seed(seed).maxTokens(MAX_TOKENS)
                    .guidedDecoding(format).build();
            futures.add(engine.generate(GenerateRequest.of("Once upon a time, Lily", p)
                    .withRequestId(format.getClass().getSimpleName() + "-" + seed)));
        }
        List<Completion> out = new ArrayList<>();
        for (CompletableFuture<Completion> f : futures) {
            out.add(f.get(120, TimeUnit.SECONDS));
        }
        return out;
    }

    /** Whatever the finish reason, the text is a prefix the grammar accepts; STOP means it is complete. */
    private static void assertPrefixValid(JsonGrammar grammar, Completion c) {
        JsonAutomaton a = new JsonAutomaton(grammar);
        assertThat(a.advance(c.text().getBytes(StandardCharsets.UTF_8))).as(c.text()).isTrue();
        if (c.finishReason() == FinishReason.STOP) {
            assertThat(a.isComplete()).as(c.text()).isTrue();
        }
    }

    /**
     * stories260K, free to pick its keys, writes story sentences as keys and values and hardly ever closes the
     * object within the context, so most runs end on length: every output must then be a prefix the grammar
     * accepts, and any that stops must parse as an object.
     */
    @Test
    void jsonObjectOutputIsAlwaysAValidPrefixAndParsesWhenItStops() throws Exception {
        List<Completion> completions = run(new GuidedDecoding.JsonObject());
        for (Completion c : completions) {
            assertPrefixValid(JsonGrammar.anyObject(), c);
            assertThat(c.text()).as("guidance reached the output").contains("{");
            if (c.finishReason() == FinishReason.STOP) {
                assertThat(JSON.readTree(c.text()).isObject()).as(c.text()).isTrue();
            } else {
                assertThat(c.finishReason()).isEqualTo(FinishReason.LENGTH);
                assertThat(c.tokenIds()).hasSize(MAX_TOKENS);
            }
        }
        assertThat(engine.stats().numPreemptions()).as("preempted and recomputed requests").isPositive();
    }

    @Test
    void jsonSchemaOutputConformsWheneverItStops() throws Exception {
        List<Completion> completions = run(new GuidedDecoding.JsonSchema(SCHEMA));
        JsonGrammar grammar = JsonGrammar.ofSchema(SCHEMA);
        int stopped = 0;
        for (Completion c : completions) {
            assertPrefixValid(grammar, c);
            if (c.finishReason() != FinishReason.STOP) {
                continue;
            }
            stopped++;
            JsonNode doc = JSON.readTree(c.text());
            assertThat(doc.path("name").isTextual()).as(c.text()).isTrue();
            assertThat(doc.path("age").isIntegralNumber()).as(c.text()).isTrue();
            assertThat(doc.path("happy").isBoolean()).as(c.text()).isTrue();
            JsonNode pets = doc.path("pets");
            if (!pets.isMissingNode()) {
                assertThat(pets.size()).isLessThanOrEqualTo(3);
                pets.forEach(pet -> assertThat(pet.asText()).isIn("cat", "dog"));
            }
            List<String> keys = new ArrayList<>();
            doc.fieldNames().forEachRemaining(keys::add);
            assertThat(List.of("name", "age", "pets", "happy")).containsAll(keys);
        }
        assertThat(stopped).as("runs that finished with stop").isGreaterThan(SEEDS / 2);
    }
}
