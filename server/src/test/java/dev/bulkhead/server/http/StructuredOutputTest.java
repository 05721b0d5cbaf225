package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code response_format} end to end on the real engine and the embedded stories260K (a model that never saw JSON):
 * every choice that ends by itself is JSON of the requested shape, whole and streamed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StructuredOutputTest {

    private static final String SCHEMA = """
            {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
             "mood": {"enum": ["happy", "sad"]}}, "required": ["name", "age", "mood"], "additionalProperties": false}
            """;

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
    void jsonSchemaChoicesThatStopParseAndConform() throws Exception {
        HttpResponse<String> r = fx.post("/v1/chat/completions", """
                {"model": "stories260K", "messages": [{"role": "user", "content": "Tell me about Lily."}],
                 "n": 6, "seed": 0, "temperature": 1, "max_tokens": 200,
                 "response_format": {"type": "json_schema", "json_schema": {"name": "person", "schema": %s}}}
                """.formatted(SCHEMA));
        JsonNode body = fx.ok(r);
        int stopped = 0;
        for (JsonNode choice : body.get("choices")) {
            String content = choice.at("/message/content").asText();
            if (!choice.get("finish_reason").asText().equals("stop")) {
                continue;
            }
            stopped++;
            JsonNode doc = json.readTree(content);
            assertThat(doc.isObject()).as(content).isTrue();
            assertThat(doc.properties()).extracting(java.util.Map.Entry::getKey).as(content)
                    .containsExactly("name", "age", "mood");
            assertThat(doc.get("name").isTextual()).as(content).isTrue();
            assertThat(doc.get("age").isIntegralNumber()).as(content).isTrue();
            assertThat(doc.get("mood").asText()).as(content).isIn("happy", "sad");
        }
        assertThat(stopped).as("choices that finished by themselves").isPositive();
        assertThat(fx.engine.stats().kv().numInUse()).isZero();
    }

    @Test
    void aStreamedJsonObjectIsAValidPrefixAndParsesWhenItStops() throws Exception {
        HttpResponse<String> r = fx.post("/v1/chat/completions", """
                {"model": "stories260K", "messages": [{"role": "user", "content": "Hi"}], "stream": true,
                 "seed": 3, "temperature": 1, "max_tokens": 40, "response_format": {"type": "json_object"}}
                """);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        StringBuilder content = new StringBuilder();
        String finish = null;
        for (String line : r.body().split("\n")) {
            if (line.startsWith("data: {")) {
                JsonNode c = json.readTree(line.substring(6)).at("/choices/0");
                content.append(c.at("/delta/content").asText(""));
                if (!c.get("finish_reason").isNull()) {
                    finish = c.get("finish_reason").asText();
                }
            }
        }
        String text = content.toString();
        assertThat(text.stripLeading()).startsWith("{");
        if ("stop".equals(finish)) {
            assertThat(json.readTree(text).isObject()).as(text).isTrue();
        } else {
            assertThat(finish).isEqualTo("length");
        }
    }
}
