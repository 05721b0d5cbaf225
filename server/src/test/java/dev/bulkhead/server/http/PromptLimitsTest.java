package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Prompts too long in characters for the context are refused before rendering or tokenizing, with a 400 that names
 * the field and the limit. The fixture's engine has a 256-token context and stories260K's longest vocabulary entry
 * is 7 characters ({@code ▁really}-sized pieces; byte tokens such as {@code <0x0A>} are 6), so the limit is 1,792.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PromptLimitsTest {

    private static final int LIMIT = 256 * 7;

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

    private JsonNode error(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        return json.readTree(r.body()).get("error");
    }

    private String completion(String prompt) {
        return json.createObjectNode().put("model", ServerFixture.MODEL).put("prompt", prompt).put("max_tokens", 1)
                .toString();
    }

    @Test
    void aPromptPastTheCharacterLimitIsRefusedNamingFieldAndLimit() throws Exception {
        JsonNode e = error(fx.post("/v1/completions", completion("a".repeat(LIMIT + 1))));
        assertThat(e.get("param").asText()).isEqualTo("prompt");
        assertThat(e.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(e.get("message").asText()).contains("'prompt'").contains(Integer.toString(LIMIT + 1))
                .contains(Integer.toString(LIMIT)).contains("256 tokens");
        fx.assertIdleWithin(1_000);
    }

    @Test
    void aPromptWithinTheCharacterLimitIsStillJudgedByItsTokens() throws Exception {
        // NOTE: 1,792 characters of "a " are about 900 tokens: past the context, which only tokenizing can tell.
        JsonNode e = error(fx.post("/v1/completions", completion("a ".repeat(LIMIT / 2))));
        assertThat(e.get("param").asText()).isEqualTo("prompt");
        assertThat(e.get("message").asText()).contains("tokens but the context holds 256");
    }

    @Test
    void chatMessagesPastTheLimitAreRefusedNamingMessages() throws Exception {
        ObjectNode body = json.createObjectNode().put("model", ServerFixture.MODEL).put("max_tokens", 1);
        body.putArray("messages").addObject().put("role", "user").put("content", "b".repeat(LIMIT + 10));
        JsonNode e = error(fx.post("/v1/chat/completions", body.toString()));
        assertThat(e.get("param").asText()).isEqualTo("messages");
        assertThat(e.get("message").asText()).contains(Integer.toString(LIMIT)).contains("256 tokens");
    }

    @Test
    void aShortPromptIsServed() throws Exception {
        assertThat(fx.ok(fx.post("/v1/completions", completion("Once upon a time"))).get("choices")).hasSize(1);
    }
}
