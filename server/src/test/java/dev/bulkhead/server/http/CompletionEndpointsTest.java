package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Completions and chat completions over real HTTP: shapes, usage, streaming, stop strings. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CompletionEndpointsTest {

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

    @Test
    void completionHasOpenAiShapeAndUsage() throws Exception {
        JsonNode body = fx.ok(fx.post("/v1/completions", """
                {"model":"stories260K","prompt":"Once upon a time","max_tokens":12,"temperature":0,"ignore_eos":true}
                """));
        assertThat(body.get("id").asText()).startsWith("cmpl-");
        assertThat(body.get("object").asText()).isEqualTo("text_completion");
        assertThat(body.get("created").asLong()).isPositive();
        assertThat(body.get("model").asText()).isEqualTo("stories260K");
        JsonNode choice = body.get("choices").get(0);
        assertThat(choice.get("index").asInt()).isZero();
        assertThat(choice.get("text").asText()).isNotEmpty();
        assertThat(choice.get("finish_reason").asText()).isEqualTo("length");
        JsonNode usage = body.get("usage");
        assertThat(usage.get("completion_tokens").asInt()).isEqualTo(12);
        assertThat(usage.get("prompt_tokens").asInt()).isPositive();
        assertThat(usage.get("total_tokens").asInt())
                .isEqualTo(usage.get("prompt_tokens").asInt() + usage.get("completion_tokens").asInt());
    }

    @Test
    void chatCompletionHasOpenAiShapeAndUsage() throws Exception {
        JsonNode body = fx.ok(fx.post("/v1/chat/completions", """
                {"model":"stories260K","messages":[{"role":"system","content":"Tell a story."},
                 {"role":"user","content":[{"type":"text","text":"Lily had a cat"}]}],
                 "max_completion_tokens":8,"temperature":0,"seed":7}
                """));
        assertThat(body.get("id").asText()).startsWith("chatcmpl-");
        assertThat(body.get("object").asText()).isEqualTo("chat.completion");
        JsonNode choice = body.get("choices").get(0);
        assertThat(choice.get("message").get("role").asText()).isEqualTo("assistant");
        assertThat(choice.get("message").get("content").isTextual()).isTrue();
        assertThat(choice.get("finish_reason").asText()).isIn("stop", "length");
        assertThat(body.get("usage").get("completion_tokens").asInt()).isBetween(1, 8);
    }

    @Test
    void streamedChunksConcatenateToTheWholeGreedyText() throws Exception {
        String req = """
                {"model":"stories260K","prompt":"Once upon a time","max_tokens":40,"temperature":0,"ignore_eos":true
                """;
        String whole = fx.ok(fx.post("/v1/completions", req + "}")).get("choices").get(0).get("text").asText();
        HttpResponse<String> r = fx.post("/v1/completions",
                req + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v)
                .startsWith("text/event-stream"));
        List<JsonNode> chunks = chunks(r.body());
        StringBuilder text = new StringBuilder();
        String finish = null;
        for (JsonNode c : chunks) {
            assertThat(c.get("object").asText()).isEqualTo("text_completion");
            for (JsonNode choice : c.get("choices")) {
                text.append(choice.get("text").asText());
                if (!choice.get("finish_reason").isNull()) {
                    finish = choice.get("finish_reason").asText();
                }
            }
        }
        assertThat(text.toString()).isEqualTo(whole);
        assertThat(finish).isEqualTo("length");
        JsonNode last = chunks.getLast();
        assertThat(last.get("choices")).isEmpty();
        assertThat(last.get("usage").get("completion_tokens").asInt()).isEqualTo(40);
    }

    @Test
    void streamedChatStartsWithTheAssistantRoleAndEndsWithDone() throws Exception {
        HttpResponse<String> r = fx.post("/v1/chat/completions", """
                {"model":"stories260K","messages":[{"role":"user","content":"Hi"}],"max_tokens":6,
                 "temperature":0,"stream":true}
                """);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).endsWith("data: [DONE]\n\n");
        List<JsonNode> chunks = chunks(r.body());
        assertThat(chunks.getFirst().get("object").asText()).isEqualTo("chat.completion.chunk");
        assertThat(chunks.getFirst().get("choices").get(0).get("delta").get("role").asText()).isEqualTo("assistant");
        assertThat(chunks.getLast().get("choices").get(0).get("finish_reason").asText()).isIn("stop", "length");
    }

    @Test
    void stopStringsCutTheOutput() throws Exception {
        String req = """
                {"model":"stories260K","prompt":"Once upon a time","max_tokens":40,"temperature":0,"ignore_eos":true
                """;
        String whole = fx.ok(fx.post("/v1/completions", req + "}")).get("choices").get(0).get("text").asText();
        String stop = whole.substring(whole.length() / 2, whole.length() / 2 + 3);
        int cut = whole.indexOf(stop);
        JsonNode one = fx.ok(fx.post("/v1/completions", req + ",\"stop\":" + json.writeValueAsString(stop) + "}"));
        assertThat(one.get("choices").get(0).get("text").asText()).isEqualTo(whole.substring(0, cut));
        assertThat(one.get("choices").get(0).get("finish_reason").asText()).isEqualTo("stop");
        JsonNode list = fx.ok(fx.post("/v1/completions", req + ",\"stop\":[\"zzzz\","
                + json.writeValueAsString(stop) + "]}"));
        assertThat(list.get("choices").get(0).get("text").asText()).isEqualTo(whole.substring(0, cut));
    }

    @Test
    void requestIdIsEchoedOrGenerated() throws Exception {
        HttpResponse<String> r = fx.http.send(java.net.http.HttpRequest.newBuilder(fx.uri("/health"))
                .header("X-Request-Id", "abc-123").GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.headers().firstValue("X-Request-Id")).hasValue("abc-123");
        assertThat(fx.get("/health").headers().firstValue("X-Request-Id")).hasValueSatisfying(v ->
                assertThat(v).isNotBlank());
    }

    private List<JsonNode> chunks(String sse) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        assertThat(sse).endsWith("data: [DONE]\n\n");
        for (String event : sse.split("\n\n")) {
            assertThat(event).startsWith("data: ");
            String data = event.substring("data: ".length());
            if (!data.equals("[DONE]")) {
                out.add(json.readTree(data));
            }
        }
        return out;
    }
}
