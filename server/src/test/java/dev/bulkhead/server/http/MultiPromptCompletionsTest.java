package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.model.ModelLoader;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code /v1/completions} with a list of prompts: one choice per prompt × n in OpenAI's order (prompt-major), each
 * equal to the prompt's solo run, streamed or not; usage summed; a bad prompt named by its index, and its failure
 * ending the other choices without leaking KV blocks.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MultiPromptCompletionsTest {

    private static final List<String> PROMPTS = List.of("Once upon a time", "Lily and Ben", "The little dog");

    private final ObjectMapper json = new ObjectMapper();
    private ServerFixture fx;

    @BeforeAll
    void start() {
        fx = new ServerFixture();
    }

    @AfterAll
    void stop() {
        fx.close();
    }

    private String quoted(List<String> prompts) throws Exception {
        return json.writeValueAsString(prompts);
    }

    /** The prompt's own answer: a request with it alone. */
    private JsonNode solo(String prompt, String params) throws Exception {
        return fx.ok(fx.post("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":"
                + json.writeValueAsString(prompt) + "," + params + "}"));
    }

    @Test
    void choicesArePromptMajorAndEqualEachPromptsSoloRun() throws Exception {
        String params = "\"max_tokens\":6,\"temperature\":0,\"ignore_eos\":true";
        JsonNode body = fx.ok(fx.post("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":" + quoted(PROMPTS)
                + ",\"n\":2," + params + "}"));
        JsonNode choices = body.get("choices");
        assertThat(choices).hasSize(6);
        int promptTokens = 0;
        List<String> soloTexts = new ArrayList<>();
        for (String p : PROMPTS) {
            JsonNode one = solo(p, params);
            soloTexts.add(one.get("choices").get(0).get("text").asText());
            promptTokens += one.get("usage").get("prompt_tokens").asInt();
        }
        assertThat(soloTexts).as("distinct prompts, so the order shows").doesNotHaveDuplicates();
        for (int k = 0; k < 6; k++) {
            assertThat(choices.get(k).get("index").asInt()).isEqualTo(k);
            assertThat(choices.get(k).get("text").asText()).as("choice %d", k).isEqualTo(soloTexts.get(k / 2));
            assertThat(choices.get(k).get("finish_reason").asText()).isEqualTo("length");
        }
        assertThat(body.get("usage").get("prompt_tokens").asInt()).as("each prompt counted once")
                .isEqualTo(promptTokens);
        assertThat(body.get("usage").get("completion_tokens").asInt()).isEqualTo(36);
        assertThat(body.get("usage").get("total_tokens").asInt()).isEqualTo(promptTokens + 36);
    }

    @Test
    void seededSampledChoicesAreThoseEachPromptGetsAlone() throws Exception {
        String params = "\"max_tokens\":8,\"temperature\":1,\"seed\":7,\"n\":2";
        JsonNode body = fx.ok(fx.post("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":"
                + quoted(PROMPTS.subList(0, 2)) + "," + params + "}"));
        for (int p = 0; p < 2; p++) {
            JsonNode one = solo(PROMPTS.get(p), params);
            for (int i = 0; i < 2; i++) {
                assertThat(body.get("choices").get(p * 2 + i).get("text").asText()).as("prompt %d choice %d", p, i)
                        .isEqualTo(one.get("choices").get(i).get("text").asText());
            }
        }
    }

    @Test
    void tokenIdListsAnswerAsTheirTexts() throws Exception {
        List<String> lists = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        String params = "\"max_tokens\":5,\"temperature\":0,\"ignore_eos\":true";
        for (String p : PROMPTS.subList(0, 2)) {
            JsonNode t = fx.ok(fx.post("/tokenize", "{\"model\":\"stories260K\",\"prompt\":"
                    + json.writeValueAsString(p) + "}"));
            lists.add(t.get("tokens").toString());
            texts.add(solo(p, params).get("choices").get(0).get("text").asText());
        }
        JsonNode body = fx.ok(fx.post("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":["
                + String.join(",", lists) + "]," + params + "}"));
        assertThat(body.get("choices")).hasSize(2);
        assertThat(body.get("choices").get(0).get("text").asText()).isEqualTo(texts.get(0));
        assertThat(body.get("choices").get(1).get("text").asText()).isEqualTo(texts.get(1));
    }

    @Test
    void streamedChunksCarryPromptMajorIndexesAndSummedUsage() throws Exception {
        String params = "\"max_tokens\":6,\"temperature\":0,\"ignore_eos\":true,\"n\":2";
        JsonNode whole = fx.ok(fx.post("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":" + quoted(PROMPTS)
                + "," + params + "}"));
        HttpResponse<String> r = fx.post("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":" + quoted(PROMPTS)
                + "," + params + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).endsWith("data: [DONE]\n\n");
        StringBuilder[] texts = new StringBuilder[6];
        int[] finished = new int[6];
        JsonNode usage = null;
        for (String event : r.body().split("\n\n")) {
            String data = event.substring("data: ".length());
            if (data.equals("[DONE]")) {
                continue;
            }
            JsonNode chunk = json.readTree(data);
            if (chunk.hasNonNull("usage")) {
                usage = chunk.get("usage");
            }
            for (JsonNode c : chunk.get("choices")) {
                int i = c.get("index").asInt();
                assertThat(i).isBetween(0, 5);
                texts[i] = texts[i] == null ? new StringBuilder() : texts[i];
                texts[i].append(c.get("text").asText());
                if (!c.get("finish_reason").isNull()) {
                    finished[i]++;
                }
            }
        }
        assertThat(finished).containsOnly(1);
        for (int k = 0; k < 6; k++) {
            assertThat(texts[k].toString()).as("choice %d", k)
                    .isEqualTo(whole.get("choices").get(k).get("text").asText());
        }
        assertThat(usage).isNotNull();
        assertThat(usage.get("prompt_tokens").asInt()).isEqualTo(whole.get("usage").get("prompt_tokens").asInt());
        assertThat(usage.get("completion_tokens").asInt()).isEqualTo(36);
    }

    @Test
    void aPromptTheEngineRefusesIsNamedAndNothingIsLeftRunning() throws Exception {
        for (boolean stream : new boolean[] {false, true}) {
            HttpResponse<String> r = fx.post("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":[[1,300],[1],"
                    + "[1,2,999999]],\"n\":2,\"max_tokens\":100,\"ignore_eos\":true,\"stream\":" + stream + "}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
            JsonNode err = json.readTree(r.body()).get("error");
            assertThat(err.get("param").asText()).isEqualTo("prompt[2]");
            assertThat(err.get("message").asText()).startsWith("prompt[2]: ").contains("999999", "vocabulary");
            fx.assertIdleWithin(10_000);
        }
    }

    @Test
    void aPromptTooLongForTheContextIsNamedBeforeAnyWork() throws Exception {
        String tooLong = "a ".repeat((int) (256L * 64));
        HttpResponse<String> r = fx.post("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":[\"Once\","
                + json.writeValueAsString(tooLong) + "],\"max_tokens\":4}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(json.readTree(r.body()).at("/error/param").asText()).isEqualTo("prompt[1]");
        assertThat(json.readTree(r.body()).at("/error/message").asText()).contains("'prompt[1]'", "256 tokens");
    }

    @Test
    void badListsAndTooManyChoicesAre400sNamingTheFieldAndLimit() throws Exception {
        String[][] cases = {
            {"[\"a\",[1]]", "1", "prompt[1]"},
            {"[[1],\"a\"]", "1", "prompt[1]"},
            {"[[1],[]]", "1", "prompt[1]"},
            {"[[1],[2,\"x\"]]", "1", "prompt[1][1]"},
            {"[[1],[2.5]]", "1", "prompt[1][0]"},
            {"[]", "1", "prompt"},
            {"[true]", "1", "prompt[0]"},
            {quoted(java.util.Collections.nCopies(33, "a")), "1", "prompt"},
            {quoted(java.util.Collections.nCopies(5, "a")), "8", "n"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = fx.post("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":" + c[0]
                    + ",\"n\":" + c[1] + ",\"max_tokens\":2}");
            assertThat(r.statusCode()).as(c[0]).isEqualTo(400);
            assertThat(json.readTree(r.body()).at("/error/param").asText()).as(c[0]).isEqualTo(c[2]);
        }
        HttpResponse<String> r = fx.post("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":"
                + quoted(java.util.Collections.nCopies(5, "a")) + ",\"n\":8}");
        assertThat(json.readTree(r.body()).at("/error/message").asText()).contains("40", "32");
        // the limit itself is fine
        JsonNode ok = fx.ok(fx.post("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":"
                + quoted(java.util.Collections.nCopies(4, "a")) + ",\"n\":8,\"max_tokens\":1}"));
        assertThat(ok.get("choices")).hasSize(32);
    }

    /**
     * A choice that fails while the others still generate (here the third, failed by the backend after 100 ms, as a
     * router refusing it would) ends the request at once with its error, and the others are aborted.
     */
    @Test
    void aChoiceFailingLateAbortsTheOthersAtOnce() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        EngineOptions options = EngineOptions.defaults().withThreads(1).withKvCacheBytes(1 << 20).withMaxModelLen(256);
        LlmEngine engine = new LlmEngine(ServerFixture.MODEL, ModelLoader.load(null), options, registry,
                SlowRunners.withStepMillis(10));
        ModelBackend failingThird = new ForwardingBackend(new EngineBackend(ServerFixture.MODEL, engine)) {
            @Override
            public CompletableFuture<ServedCompletion> complete(String model, GenerateRequest request) {
                if (request.requestId().endsWith("-2")) {
                    return CompletableFuture.<ServedCompletion>supplyAsync(() -> {
                        throw new ApiException(429, "rate_limit_error", null, "overloaded", "full", 1);
                    }, CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS));
                }
                return super.complete(model, request);
            }
        };
        try (BulkheadServer server = BulkheadServer.start(ServerConfig.local(0), failingThird, registry)) {
            long t0 = System.nanoTime();
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port() + "/v1/completions"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                            "{\"model\":\"stories260K\",\"prompt\":[\"Once\",\"Lily\",\"Ben\"],\"max_tokens\":240,"
                                    + "\"ignore_eos\":true}")).build(), HttpResponse.BodyHandlers.ofString());
            long millis = (System.nanoTime() - t0) / 1_000_000;
            assertThat(r.statusCode()).as(r.body()).isEqualTo(429);
            assertThat(millis).as("240 steps of 10 ms were not waited for").isLessThan(2_000);
            long until = System.nanoTime() + 10_000_000_000L;
            while ((engine.inFlight() > 0 || engine.stats().kv().numInUse() > 0) && System.nanoTime() < until) {
                Thread.sleep(5);
            }
            assertThat(engine.inFlight()).isZero();
            assertThat(engine.stats().kv().numInUse()).isZero();
        }
    }
}
