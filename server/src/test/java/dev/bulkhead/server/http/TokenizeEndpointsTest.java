package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.model.ModelLoader;
import dev.bulkhead.model.tokenizer.Tokenizer;
import dev.bulkhead.router.Router;
import dev.bulkhead.router.RouterConfigLoader;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * vLLM's {@code /tokenize} and {@code /detokenize}: counts equal to what the completion endpoints bill, chat
 * messages rendered as the chat endpoint renders them, round trips, and the same guards as the other endpoints
 * (errors naming the field, limits, API keys, the browser guard, the CPU pool).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TokenizeEndpointsTest {

    private static final String CHAT = """
            [{"role":"system","content":"Tell a short story."},{"role":"user","content":"Lily had a cat"},
             {"role":"assistant","content":"The cat was big."},{"role":"user","content":"And then?"}]""";

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

    private JsonNode tokenize(String fields) throws Exception {
        return fx.ok(fx.post("/tokenize", "{\"model\":\"stories260K\"," + fields + "}"));
    }

    private JsonNode error(HttpResponse<String> r, int status) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        return json.readTree(r.body()).get("error");
    }

    private static List<Integer> ids(JsonNode tokens) {
        List<Integer> out = new ArrayList<>();
        tokens.forEach(t -> out.add(t.asInt()));
        return out;
    }

    @Test
    void aPromptsCountIsWhatTheCompletionBillsAndHasVllmsShape() throws Exception {
        JsonNode t = tokenize("\"prompt\":\"Once upon a time, there was a cat.\"");
        assertThat(t.fieldNames()).toIterable().containsExactly("count", "max_model_len", "tokens");
        assertThat(t.get("count").asInt()).isEqualTo(t.get("tokens").size()).isGreaterThan(3);
        assertThat(t.get("max_model_len").asInt()).isEqualTo(256);
        JsonNode c = fx.ok(fx.post("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":\"Once upon a time, "
                + "there was a cat.\",\"max_tokens\":1}"));
        assertThat(t.get("count").asInt()).isEqualTo(c.get("usage").get("prompt_tokens").asInt());

        JsonNode plain = tokenize("\"prompt\":\"Once upon a time, there was a cat.\",\"add_special_tokens\":false");
        List<Integer> all = ids(t.get("tokens"));
        assertThat(ids(plain.get("tokens"))).as("the same tokens without BOS").isEqualTo(all.subList(1, all.size()));
        assertThat(all.getFirst()).isEqualTo(fx.engine.tokenizer().bosId());
    }

    @Test
    void chatMessagesCountAsTheChatEndpointBillsThem() throws Exception {
        JsonNode t = tokenize("\"messages\":" + CHAT);
        JsonNode chat = fx.ok(fx.post("/v1/chat/completions", "{\"model\":\"stories260K\",\"messages\":" + CHAT
                + ",\"max_tokens\":1}"));
        assertThat(t.get("count").asInt()).isEqualTo(chat.get("usage").get("prompt_tokens").asInt());
        JsonNode noTurn = tokenize("\"messages\":" + CHAT + ",\"add_generation_prompt\":false");
        assertThat(noTurn.get("count").asInt()).as("no assistant turn opened").isLessThan(t.get("count").asInt());
        assertThat(ids(t.get("tokens"))).startsWith(ids(noTurn.get("tokens")).toArray(Integer[]::new));
        JsonNode noBos = tokenize("\"messages\":" + CHAT + ",\"add_special_tokens\":false");
        assertThat(noBos.get("count").asInt()).isEqualTo(t.get("count").asInt() - 1);
    }

    @Test
    void detokenizeUndoesTokenize() throws Exception {
        for (String text : List.of("Once upon a time, there was a little cat named Tom.",
                "Lily said: \"Hi!\"\nBen ran.", "a")) {
            JsonNode t = tokenize("\"prompt\":" + json.writeValueAsString(text) + ",\"add_special_tokens\":false");
            JsonNode d = fx.ok(fx.post("/detokenize", "{\"model\":\"stories260K\",\"tokens\":" + t.get("tokens")
                    + "}"));
            assertThat(d.fieldNames()).toIterable().containsExactly("prompt");
            assertThat(d.get("prompt").asText()).isEqualTo(text);
        }
        assertThat(fx.ok(fx.post("/detokenize", "{\"model\":\"stories260K\",\"tokens\":[]}")).get("prompt").asText())
                .isEmpty();
    }

    @Test
    void tokenStringsAreTheVocabularyEntries() throws Exception {
        JsonNode t = tokenize("\"prompt\":\"Once upon\",\"return_token_strs\":true");
        Tokenizer tok = fx.engine.tokenizer();
        List<String> expected = new ArrayList<>();
        t.get("tokens").forEach(id -> expected.add(tok.tokenText(id.asInt())));
        List<String> strs = new ArrayList<>();
        t.get("token_strs").forEach(s -> strs.add(s.asText()));
        assertThat(strs).isEqualTo(expected).hasSize(t.get("count").asInt());
    }

    @Test
    void badInputIsA400NamingTheField() throws Exception {
        int vocab = fx.engine.tokenizer().vocabSize();
        String[][] cases = {
            {"/detokenize", "\"tokens\":[1," + vocab + ",2]", "tokens[1]", "outside the vocabulary [0, " + vocab},
            {"/detokenize", "\"tokens\":[-1]", "tokens[0]", "outside the vocabulary"},
            {"/detokenize", "\"tokens\":[1,2.5]", "tokens[1]", "token id"},
            {"/detokenize", "\"tokens\":\"1 2\"", "tokens", "list"},
            {"/detokenize", "\"tokens\":[1],\"prompt\":\"x\"", "prompt", "unknown"},
            {"/tokenize", "\"add_special_tokens\":true", "prompt", "neither"},
            {"/tokenize", "\"prompt\":\"x\",\"messages\":[]", "messages", "both"},
            {"/tokenize", "\"prompt\":5", "prompt", "string"},
            {"/tokenize", "\"prompt\":\"x\",\"add_generation_prompt\":true", "add_generation_prompt", "messages"},
            {"/tokenize", "\"prompt\":\"x\",\"add_special_tokens\":\"yes\"", "add_special_tokens", "boolean"},
            {"/tokenize", "\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]", "messages[0].role", "role"},
            {"/tokenize", "\"messages\":[]", "messages", "non-empty"},
            {"/tokenize", "\"prompt\":\"\\ud800\"", "prompt", ""},
            {"/tokenize", "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{\"type\":\"function\","
                    + "\"function\":{\"name\":\"f\"}}]", "tools", "template"},
            {"/tokenize", "\"prompt\":" + json.writeValueAsString("a ".repeat(256 * 64)), "prompt", "256 tokens"},
        };
        for (String[] c : cases) {
            JsonNode e = error(fx.post(c[0], "{\"model\":\"stories260K\"," + c[1] + "}"), 400);
            assertThat(e.get("param").asText()).as(c[1]).isEqualTo(c[2]);
            assertThat(e.get("message").asText()).as(c[1]).contains(c[3]);
            assertThat(e.get("type").asText()).isEqualTo("invalid_request_error");
        }
        assertThat(error(fx.post("/tokenize", "{\"model\":\"gpt-9\",\"prompt\":\"x\"}"), 404).get("code").asText())
                .isEqualTo("model_not_found");
        assertThat(error(fx.post("/detokenize", "{\"tokens\":[1]}"), 400).get("param").asText()).isEqualTo("model");
        assertThat(error(fx.post("/tokenize", "{\"model\":\"stories260K\",\"prompt\":"), 400).get("message")
                .asText()).contains("malformed JSON");
        assertThat(fx.get("/tokenize").statusCode()).isEqualTo(405);
    }

    @Test
    void aBodyOverTheLimitIs413() throws Exception {
        try (ServerFixture small = new ServerFixture(ServerConfig.local(0).withMaxBodyBytes(1000))) {
            HttpResponse<String> r = small.post("/tokenize", "{\"model\":\"stories260K\",\"prompt\":\""
                    + "a".repeat(2000) + "\"}");
            assertThat(error(r, 413).get("code").asText()).isEqualTo("request_too_large");
        }
    }

    @Test
    void keysGuardBothPathsAndTheirModels() throws Exception {
        String all = "sk-test-all-0123456789abcdef";
        String other = "sk-test-other-0123456789abcd";
        ApiKeys keys = ApiKeys.parse(all + "\n" + other + "  other-model", "\\R", "test");
        try (ServerFixture keyed = new ServerFixture(ServerConfig.local(0).withApiKeys(keys))) {
            for (String path : List.of("/tokenize", "/detokenize", "/tokenize/", "/detokenize/x")) {
                HttpResponse<String> r = send(keyed, path, "{\"model\":\"stories260K\",\"tokens\":[1]}", null);
                assertThat(error(r, 401).get("code").asText()).as(path).isEqualTo("invalid_api_key");
                assertThat(r.headers().firstValue("Connection")).as("the unread body ends the connection")
                        .hasValue("close");
            }
            assertThat(send(keyed, "/tokenize", "{\"model\":\"stories260K\",\"prompt\":\"Hi\"}", all).statusCode())
                    .isEqualTo(200);
            assertThat(error(send(keyed, "/detokenize", "{\"model\":\"stories260K\",\"tokens\":[1]}", other), 404)
                    .get("code").asText()).isEqualTo("model_not_found");
            assertThat(error(send(keyed, "/tokenize", "{\"model\":\"stories260K\",\"prompt\":\"Hi\"}", other), 404)
                    .get("param").asText()).isEqualTo("model");
        }
    }

    /** POSTs on a connection of its own, with {@code key} unless null. */
    private static HttpResponse<String> send(ServerFixture f, String path, String body, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(f.uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    @Test
    void withoutKeysForeignHostsAndOriginsAreRefused() throws Exception {
        int port = fx.server.port();
        String body = "{\"model\":\"stories260K\",\"prompt\":\"Hi\"}";
        RawHttp.Response rebound = RawHttp.exchange(port, "POST", "/tokenize", body, "Host: evil.example:" + port,
                "Content-Type: text/plain");
        assertThat(rebound.status()).isEqualTo(403);
        assertThat(json.readTree(rebound.body()).at("/error/code").asText()).isEqualTo("host_not_allowed");
        RawHttp.Response csrf = RawHttp.exchange(port, "POST", "/detokenize", "{\"model\":\"stories260K\","
                + "\"tokens\":[1]}", "Host: 127.0.0.1:" + port, "Content-Type: text/plain",
                "Origin: https://evil.example");
        assertThat(csrf.status()).isEqualTo(403);
        assertThat(json.readTree(csrf.body()).at("/error/code").asText()).isEqualTo("origin_not_allowed");
    }

    @Test
    void inRouterModeTheModelFieldPicksTheAlias(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("router.yaml"), """
                models:
                  - name: a
                    engine: {kvCacheBytes: 1048576, maxModelLen: 128, maxRunning: 4}
                routing:
                  version: 1
                  routes:
                    story: {targets: [{model: a, weight: 1}]}
                """);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Router router = Router.start(RouterConfigLoader.load(file), ModelRunnerFactory.CPU, registry);
        HttpClient http = HttpClient.newHttpClient();
        JsonNode direct = tokenize("\"prompt\":\"Once upon a time\"");
        try (BulkheadServer server = BulkheadServer.start(ServerConfig.local(0), new RouterBackend(router), registry)) {
            for (String model : List.of("story", "a")) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + server.port() + "/tokenize")).POST(HttpRequest.BodyPublishers.ofString("{\"model\":\""
                        + model + "\",\"prompt\":\"Once upon a time\"}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                assertThat(json.readTree(r.body()).get("tokens")).as(model).isEqualTo(direct.get("tokens"));
            }
            HttpResponse<String> unknown = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + server.port() + "/detokenize")).POST(HttpRequest.BodyPublishers.ofString(
                            "{\"model\":\"nope\",\"tokens\":[1]}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(error(unknown, 404).get("code").asText()).isEqualTo("model_not_found");
        }
    }

    @Test
    void tokenizerCallsRunOnTheRequestCpuPool() throws Exception {
        ConcurrentLinkedQueue<String> threads = new ConcurrentLinkedQueue<>();
        EngineOptions options = EngineOptions.defaults().withThreads(1).withKvCacheBytes(1 << 20).withMaxModelLen(256);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ModelBackend recording = new ForwardingBackend(new EngineBackend(ServerFixture.MODEL, new LlmEngine(
                ServerFixture.MODEL, ModelLoader.load(null), options, registry, ModelRunnerFactory.CPU))) {
            @Override
            public Optional<Tokenizer> tokenizer(String model) {
                Thread t = Thread.currentThread();
                threads.add((t.isVirtual() ? "virtual " : "platform ") + t.getName());
                return super.tokenizer(model);
            }
        };
        HttpClient http = HttpClient.newHttpClient();
        try (BulkheadServer server = BulkheadServer.start(ServerConfig.local(0), recording, registry)) {
            for (String[] c : new String[][] {{"/tokenize", "\"prompt\":\"Hi\""}, {"/detokenize", "\"tokens\":[1]"}}) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + server.port() + c[0])).POST(HttpRequest.BodyPublishers.ofString(
                                "{\"model\":\"stories260K\"," + c[1] + "}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            }
        }
        assertThat(threads).isNotEmpty().allSatisfy(t -> assertThat(t).startsWith("platform bulkhead-request-cpu-"));
    }
}
