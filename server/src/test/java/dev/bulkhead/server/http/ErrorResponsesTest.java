package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Bad input is answered in OpenAI's error shape with the right status and param, and harms nothing. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ErrorResponsesTest {

    private static final long LIMIT = 4096;

    private final ObjectMapper json = new ObjectMapper();
    private ServerFixture fx;

    @BeforeAll
    void start() {
        fx = new ServerFixture(ServerConfig.local(0).withMaxBodyBytes(LIMIT));
    }

    @AfterAll
    void stop() {
        fx.close();
    }

    private JsonNode error(HttpResponse<String> r, int status) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        JsonNode err = json.readTree(r.body()).get("error");
        assertThat(err.get("message").asText()).isNotBlank();
        assertThat(err.has("type")).isTrue();
        assertThat(err.has("param")).isTrue();
        assertThat(err.has("code")).isTrue();
        return err;
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "'\"temperature\":-1'          | temperature",
        "'\"max_tokens\":0'            | max_tokens",
        "'\"max_tokens\":\"5\"'        | max_tokens",
        "'\"top_p\":0'                 | top_p",
        "'\"presence_penalty\":3'      | presence_penalty",
        "'\"stream\":\"yes\"'          | stream",
        "'\"stop\":5'                  | stop",
        "'\"n\":9'                     | n",
        "'\"logprobs\":21'             | logprobs",
        "'\"bogus\":1'                 | bogus",
        "'\"max_tokens\":100000'       | max_tokens",
    })
    void badFieldsAre400NamingTheParam(String field, String param) throws Exception {
        JsonNode err = error(fx.post("/v1/completions",
                "{\"model\":\"stories260K\",\"prompt\":\"Hi\"," + field + "}"), 400);
        assertThat(err.get("param").asText()).isEqualTo(param);
        assertThat(err.get("type").asText()).isEqualTo("invalid_request_error");
    }

    @Test
    void badChatMessagesAre400() throws Exception {
        JsonNode err = error(fx.post("/v1/chat/completions",
                "{\"model\":\"stories260K\",\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}"), 400);
        assertThat(err.get("param").asText()).isEqualTo("messages[0].role");
        assertThat(error(fx.post("/v1/chat/completions", "{\"model\":\"stories260K\",\"messages\":[]}"), 400)
                .get("param").asText()).isEqualTo("messages");
    }

    @Test
    void loneSurrogatesAre400NamingTheStringAndPairsAreServed() throws Exception {
        JsonNode err = error(fx.post("/v1/chat/completions", "{\"model\":\"stories260K\",\"messages\":"
                + "[{\"role\":\"user\",\"content\":\"ok \\ud800\"}],\"max_tokens\":2}"), 400);
        assertThat(err.get("param").asText()).isEqualTo("messages[0].content");
        assertThat(err.get("message").asText()).contains("lone UTF-16 surrogate at character 3");
        assertThat(error(fx.post("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":\"x\","
                + "\"stop\":[\"a\",\"\\udc00\"]}"), 400).get("param").asText()).isEqualTo("stop[1]");
        assertThat(fx.post("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":\"\\ud83d\\ude00\","
                + "\"max_tokens\":2}").statusCode()).isEqualTo(200);
    }

    @Test
    void malformedBodiesAre400WithAClearMessage() throws Exception {
        assertThat(error(fx.post("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":\"Hi"), 400)
                .get("message").asText()).contains("malformed JSON");
        assertThat(error(fx.post("/v1/completions", "[1,2]"), 400).get("message").asText())
                .contains("JSON object");
        assertThat(error(fx.post("/v1/completions", "{\"model\":\"a\",\"model\":\"b\",\"prompt\":\"x\"}"), 400)
                .get("message").asText()).contains("malformed JSON");
        byte[] prefix = "{\"model\":\"stories260K\",\"prompt\":\"".getBytes(StandardCharsets.UTF_8);
        byte[] bad = Arrays.copyOf(prefix, prefix.length + 4);
        bad[prefix.length] = (byte) 0xC3;
        bad[prefix.length + 1] = (byte) 0x28;
        bad[prefix.length + 2] = '"';
        bad[prefix.length + 3] = '}';
        assertThat(error(fx.post("/v1/completions", bad), 400).get("message").asText()).contains("UTF-8");
    }

    @Test
    void unknownModelIs404() throws Exception {
        JsonNode err = error(fx.post("/v1/completions", "{\"model\":\"gpt-9\",\"prompt\":\"Hi\"}"), 404);
        assertThat(err.get("param").asText()).isEqualTo("model");
        assertThat(err.get("code").asText()).isEqualTo("model_not_found");
    }

    @Test
    void bodyOverTheLimitIs413() throws Exception {
        String big = "{\"model\":\"stories260K\",\"prompt\":\"" + "a".repeat((int) LIMIT) + "\"}";
        assertThat(error(fx.post("/v1/completions", big), 413).get("code").asText()).isEqualTo("request_too_large");
    }

    @Test
    void wrongMethodIs405AndUnknownPathIs404() throws Exception {
        error(fx.get("/v1/completions"), 405);
        error(fx.http.send(HttpRequest.newBuilder(fx.uri("/health")).POST(HttpRequest.BodyPublishers.noBody())
                .build(), HttpResponse.BodyHandlers.ofString()), 405);
        error(fx.get("/v2/nothing"), 404);
    }

    @Test
    void aGoodRequestStillWorksAfterManyBadOnesAndNoBlocksLeak() throws Exception {
        for (int i = 0; i < 30; i++) {
            fx.post("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":\"Hi\",\"temperature\":-" + i + ".5}");
            fx.post("/v1/chat/completions", "{\"model\":\"stories260K\",\"messages\":[{\"role\":\"user\"");
            fx.post("/v1/completions", "{\"model\":\"stories260K\",\"prompt\":\"Hi\",\"max_tokens\":" + (1000 + i) + "}");
        }
        HttpResponse<String> r = fx.post("/v1/completions",
                "{\"model\":\"stories260K\",\"prompt\":\"Once\",\"max_tokens\":5,\"temperature\":0,\"ignore_eos\":true}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(json.readTree(r.body()).get("usage").get("completion_tokens").asInt()).isEqualTo(5);
        fx.assertIdleWithin(5_000);
    }
}
