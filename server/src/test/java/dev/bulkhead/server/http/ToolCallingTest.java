package dev.bulkhead.server.http;

import dev.bulkhead.engine.chat.ChatTemplateSource;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.FinishReason;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.TokenDelta;
import dev.bulkhead.engine.api.TokenStream;
import dev.bulkhead.engine.internal.DeltaPublisher;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Tool calling over HTTP with Qwen3's real chat template: tools reach the prompt, the answer's Hermes-style calls
 * come back as OpenAI {@code tool_calls} (whole and streamed), earlier calls and tool results render, and bad tool
 * requests are 400s naming their field. The backend here answers with a scripted text instead of running a model:
 * no test-sized model can be made to write a tool call, and what is under test is the HTTP layer's handling of one.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ToolCallingTest {

    private static final String ANSWER = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
            + "\"Paris\"}}\n</tool_call>";
    private static final String TOOLS = """
            "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
              "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
            """;

    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();
    private ScriptedBackend backend;
    private BulkheadServer server;

    @BeforeAll
    void start() throws Exception {
        String qwen3 = Files.readString(SharedFiles.require("chat-templates/qwen3.jinja"));
        backend = new ScriptedBackend(qwen3);
        server = BulkheadServer.start(ServerConfig.local(0), backend, new PrometheusMeterRegistry(
                PrometheusConfig.DEFAULT));
    }

    @AfterAll
    void stop() {
        server.stop();
    }

    @Test
    void aCallInTheAnswerComesBackAsToolCallsAndTheToolsReachThePrompt() throws Exception {
        backend.answer = "\n" + ANSWER;
        HttpResponse<String> r = post("""
                {"model": "qwen", "messages": [{"role": "user", "content": "Weather in Paris?"}], %s}
                """.formatted(TOOLS));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode choice = json.readTree(r.body()).at("/choices/0");
        assertThat(choice.get("finish_reason").asText()).isEqualTo("tool_calls");
        assertThat(choice.at("/message/content").isNull()).isTrue();
        JsonNode call = choice.at("/message/tool_calls/0");
        assertThat(call.get("type").asText()).isEqualTo("function");
        assertThat(call.get("id").asText()).startsWith("call_");
        assertThat(call.at("/function/name").asText()).isEqualTo("get_weather");
        assertThat(json.readTree(call.at("/function/arguments").asText())).isEqualTo(json.readTree(
                "{\"city\": \"Paris\"}"));
        assertThat(backend.lastPrompt).contains("<tools>").contains("\"name\": \"get_weather\"")
                .contains("Weather of a city").endsWith("<|im_start|>assistant\n");
    }

    @Test
    void aStreamedCallArrivesWholeInOneChunkAndNoTagLeaksIntoContent() throws Exception {
        backend.answer = "Checking. " + ANSWER;
        HttpResponse<String> r = post("""
                {"model": "qwen", "stream": true, "messages": [{"role": "user", "content": "Paris?"}], %s}
                """.formatted(TOOLS));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        StringBuilder content = new StringBuilder();
        List<JsonNode> calls = new ArrayList<>();
        String finish = null;
        for (String line : r.body().split("\n")) {
            if (!line.startsWith("data: {")) {
                continue;
            }
            JsonNode c = json.readTree(line.substring("data: ".length())).at("/choices/0");
            content.append(c.at("/delta/content").asText(""));
            c.at("/delta/tool_calls").forEach(calls::add);
            if (!c.get("finish_reason").isNull()) {
                finish = c.get("finish_reason").asText();
            }
        }
        assertThat(content.toString()).isEqualTo("Checking. ");
        assertThat(calls).hasSize(1);
        assertThat(calls.get(0).get("index").asInt()).isZero();
        assertThat(calls.get(0).at("/function/name").asText()).isEqualTo("get_weather");
        assertThat(finish).isEqualTo("tool_calls");
    }

    @Test
    void earlierCallsAndToolResultsRenderIntoTheNextTurn() throws Exception {
        backend.answer = "It is sunny in Paris.";
        HttpResponse<String> r = post("""
                {"model": "qwen", %s, "messages": [
                  {"role": "user", "content": "Weather in Paris?"},
                  {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}}]},
                  {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21 C"}]}
                """.formatted(TOOLS));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode choice = json.readTree(r.body()).at("/choices/0");
        assertThat(choice.get("finish_reason").asText()).isEqualTo("stop");
        assertThat(choice.at("/message/content").asText()).isEqualTo("It is sunny in Paris.");
        assertThat(choice.at("/message/tool_calls").isMissingNode()).isTrue();
        assertThat(backend.lastPrompt).contains("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": ")
                .contains("<tool_response>\nsunny, 21 C\n</tool_response>");
    }

    @Test
    void aForcedFunctionConstrainsDecodingToItsParametersAndTheAnswerIsTheCall() throws Exception {
        for (String choice : List.of("{\"type\": \"function\", \"function\": {\"name\": \"get_weather\"}}",
                "\"required\"")) {
            backend.answer = "{\"city\": \"Lyon\"}";
            for (boolean stream : List.of(false, true)) {
                HttpResponse<String> r = post("""
                        {"model": "qwen", "stream": %s, "tool_choice": %s, %s,
                         "messages": [{"role": "user", "content": "Lyon?"}]}
                        """.formatted(stream, choice, TOOLS));
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                assertThat(backend.lastSampling.guidedDecoding()).isInstanceOf(
                        dev.bulkhead.engine.api.GuidedDecoding.JsonSchema.class);
                JsonNode call;
                String finish;
                if (stream) {
                    List<JsonNode> chunks = new ArrayList<>();
                    for (String line : r.body().split("\n")) {
                        if (line.startsWith("data: {")) {
                            chunks.add(json.readTree(line.substring(6)).at("/choices/0"));
                        }
                    }
                    call = chunks.stream().filter(c -> c.at("/delta/tool_calls").isArray()).findFirst().orElseThrow()
                            .at("/delta/tool_calls/0");
                    finish = chunks.getLast().get("finish_reason").asText();
                } else {
                    JsonNode c = json.readTree(r.body()).at("/choices/0");
                    call = c.at("/message/tool_calls/0");
                    finish = c.get("finish_reason").asText();
                }
                assertThat(call.at("/function/name").asText()).isEqualTo("get_weather");
                assertThat(call.at("/function/arguments").asText()).isEqualTo("{\"city\":\"Lyon\"}");
                assertThat(finish).as("OpenAI ends a forced call with stop").isEqualTo("stop");
            }
        }
    }

    @Test
    void requiredOverSeveralToolsConstrainsToOneCallOfAnyAndReturnsIt() throws Exception {
        String two = TOOLS.replace("}}}]", "}}}, {\"type\": \"function\", \"function\": {\"name\": \"other\"}}]");
        backend.answer = "{\"name\": \"other\", \"arguments\": {}}";
        for (boolean stream : List.of(false, true)) {
            HttpResponse<String> r = post("""
                    {"model": "qwen", "stream": %s, "tool_choice": "required", %s,
                     "messages": [{"role": "user", "content": "Anything?"}]}
                    """.formatted(stream, two));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(backend.lastSampling.guidedDecoding()).isInstanceOf(
                    dev.bulkhead.engine.api.GuidedDecoding.JsonSchema.class);
            String body = r.body();
            JsonNode call = stream
                    ? json.readTree(java.util.Arrays.stream(body.split("\n")).filter(l -> l.contains("tool_calls"))
                            .findFirst().orElseThrow().substring(6)).at("/choices/0/delta/tool_calls/0")
                    : json.readTree(body).at("/choices/0/message/tool_calls/0");
            assertThat(call.at("/function/name").asText()).isEqualTo("other");
            assertThat(call.at("/function/arguments").asText()).isEqualTo("{}");
            assertThat(body).contains("\"finish_reason\":\"tool_calls\"");
        }
        // The constraint is real: a document naming no offered function cannot be generated.
        dev.bulkhead.engine.internal.guided.JsonGrammar g = dev.bulkhead.engine.internal.guided.JsonGrammar.ofSchema(
                ((dev.bulkhead.engine.api.GuidedDecoding.JsonSchema) backend.lastSampling.guidedDecoding())
                        .schemaJson());
        assertThat(accepts(g, "{\"name\": \"other\", \"arguments\": {}}")).isTrue();
        assertThat(accepts(g, "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}")).isTrue();
        assertThat(accepts(g, "{\"name\": \"nope\", \"arguments\": {}}")).isFalse();
    }

    private static boolean accepts(dev.bulkhead.engine.internal.guided.JsonGrammar g, String doc) {
        dev.bulkhead.engine.internal.guided.JsonAutomaton a = new dev.bulkhead.engine.internal.guided.JsonAutomaton(g);
        return a.advance(doc.getBytes(java.nio.charset.StandardCharsets.UTF_8)) && a.isComplete();
    }

    @Test
    void responseFormatReachesTheEngineAsAConstraint() throws Exception {
        backend.answer = "{}";
        String user = "\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]";
        post("{\"model\": \"plain\", " + user + ", \"response_format\": {\"type\": \"json_object\"}}");
        assertThat(backend.lastSampling.guidedDecoding()).isInstanceOf(
                dev.bulkhead.engine.api.GuidedDecoding.JsonObject.class);
        post("{\"model\": \"plain\", " + user + ", \"response_format\": {\"type\": \"text\"}}");
        assertThat(backend.lastSampling.guidedDecoding()).isNull();
        post("{\"model\": \"plain\", " + user + ", \"response_format\": {\"type\": \"json_schema\", "
                + "\"json_schema\": {\"name\": \"x\", \"schema\": {\"type\": \"object\", \"properties\": "
                + "{\"a\": {\"type\": \"integer\"}}, \"required\": [\"a\"]}}}}");
        assertThat(backend.lastSampling.guidedDecoding()).isInstanceOf(
                dev.bulkhead.engine.api.GuidedDecoding.JsonSchema.class);
        assertBad("{\"model\": \"plain\", " + user + ", \"response_format\": {\"type\": \"xml\"}}",
                "response_format.type");
        assertBad("{\"model\": \"plain\", " + user + ", \"response_format\": {\"type\": \"json_schema\", "
                + "\"json_schema\": {\"name\": \"x\", \"schema\": {\"type\": \"string\", \"pattern\": \"a+\"}}}}",
                "response_format.json_schema.schema");
        assertBad("{\"model\": \"qwen\", " + user + ", " + TOOLS + ", \"tool_choice\": \"required\", "
                + "\"response_format\": {\"type\": \"json_object\"}}", "response_format");
    }

    @Test
    void toolChoiceNoneLeavesTheAnswerAsText() throws Exception {
        backend.answer = ANSWER;
        HttpResponse<String> r = post("""
                {"model": "qwen", "tool_choice": "none", "messages": [{"role": "user", "content": "Hi"}], %s}
                """.formatted(TOOLS));
        JsonNode choice = json.readTree(r.body()).at("/choices/0");
        assertThat(choice.at("/message/content").asText()).isEqualTo(ANSWER);
        assertThat(choice.get("finish_reason").asText()).isEqualTo("stop");
    }

    @Test
    void badToolRequestsAre400sNamingTheirField() throws Exception {
        String user = "\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]";
        assertBad("{\"model\": \"qwen\", " + user + ", " + TOOLS + ", \"tool_choice\": {\"type\": \"function\", "
                + "\"function\": {\"name\": \"nope\"}}}", "tool_choice");
        assertBad("{\"model\": \"qwen\", " + user + ", \"tools\": [{\"type\": \"function\", \"function\": "
                + "{\"name\": \"bad name!\"}}]}", "tools[0].function.name");
        assertBad("{\"model\": \"qwen\", " + user + ", \"tools\": []}", "tools");
        assertBad("{\"model\": \"qwen\", " + user + ", \"tool_choice\": \"auto\"}", "tool_choice");
        assertBad("{\"model\": \"qwen\", " + TOOLS + ", \"messages\": [{\"role\": \"tool\", \"content\": \"x\"}]}",
                "messages[0].tool_call_id");
        assertBad("{\"model\": \"qwen\", " + TOOLS + ", \"messages\": [{\"role\": \"user\", \"content\": \"x\", "
                + "\"tool_calls\": []}]}", "messages[0].tool_calls");
        assertBad("{\"model\": \"plain\", " + user + ", " + TOOLS + "}", "tools");

    }

    private void assertBad(String body, String param) throws Exception {
        HttpResponse<String> r = post(body);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(json.readTree(r.body()).at("/error/param").asText()).as(r.body()).isEqualTo(param);
    }

    private HttpResponse<String> post(String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                        + "/v1/chat/completions")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Serves {@code qwen} (with Qwen3's template) and {@code plain} (no template) by answering a set text. */
    private static final class ScriptedBackend implements ModelBackend {

        private final String template;
        volatile String answer = "";
        volatile String lastPrompt;
        volatile dev.bulkhead.engine.api.SamplingParams lastSampling;

        ScriptedBackend(String template) {
            this.template = template;
        }

        @Override
        public List<String> models() {
            return List.of("qwen", "plain");
        }

        @Override
        public CompletableFuture<ServedCompletion> complete(String model, GenerateRequest request) {
            lastPrompt = request.prompt();
            lastSampling = request.sampling();
            return CompletableFuture.completedFuture(new ServedCompletion(completion(request), model, false));
        }

        @Override
        public TokenStream stream(String model, GenerateRequest request) {
            lastPrompt = request.prompt();
            lastSampling = request.sampling();
            DeltaPublisher p = new DeltaPublisher(Executors.newVirtualThreadPerTaskExecutor(), () -> {
            });
            String text = answer;
            // NOTE: 3-character deltas cut through the tags, as real tokens would.
            for (int at = 0, i = 0; at < text.length(); at += 3, i++) {
                int end = Math.min(text.length(), at + 3);
                p.emit(new TokenDelta(request.requestId(), i, text.substring(at, end), i,
                        end == text.length() ? FinishReason.STOP : null));
            }
            return new TokenStream(request.requestId(), p, CompletableFuture.completedFuture(completion(request)));
        }

        private Completion completion(GenerateRequest request) {
            return new Completion(request.requestId(), new int[] {1, 2}, new int[] {3, 4, 5}, answer, FinishReason.STOP,
                    1, 2);
        }

        @Override
        public Optional<ChatTemplateSource> chatTemplate(String model) {
            return model.equals("qwen") ? Optional.of(new ChatTemplateSource(template, Map.of())) : Optional.empty();
        }

        @Override
        public Map<String, Readiness> readiness() {
            return Map.of("qwen", new Readiness(true, "READY", 0, ""), "plain", new Readiness(true, "READY", 0, ""));
        }

        @Override
        public boolean healthy() {
            return true;
        }

        @Override
        public void close() {
        }
    }
}
