package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** OpenAI's {@code logprobs} / {@code top_logprobs} shapes and {@code n} choices per request, over real HTTP. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LogprobsAndChoicesTest {

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
    void chatLogprobsHaveOpenAiShape() throws Exception {
        JsonNode body = fx.ok(fx.post("/v1/chat/completions", """
                {"model":"stories260K","messages":[{"role":"user","content":"Hi"}],"max_tokens":6,
                 "temperature":0,"ignore_eos":true,"logprobs":true,"top_logprobs":3}
                """));
        JsonNode content = body.get("choices").get(0).get("logprobs").get("content");
        assertThat(content).hasSize(6);
        StringBuilder text = new StringBuilder();
        for (JsonNode e : content) {
            String token = e.get("token").asText();
            text.append(token);
            double lp = e.get("logprob").asDouble();
            assertThat(lp).isLessThanOrEqualTo(0);
            List<Integer> bytes = new ArrayList<>();
            e.get("bytes").forEach(b -> bytes.add(b.asInt()));
            assertThat(bytes).hasSize(token.getBytes(StandardCharsets.UTF_8).length);
            JsonNode top = e.get("top_logprobs");
            assertThat(top).hasSize(3);
            double prev = 0;
            for (JsonNode alt : top) {
                assertThat(alt.get("token").isTextual()).isTrue();
                assertThat(alt.get("bytes").isArray()).isTrue();
                assertThat(alt.get("logprob").asDouble()).isLessThanOrEqualTo(prev);
                prev = alt.get("logprob").asDouble();
            }
            // greedy: the chosen token is the most likely one
            assertThat(lp).isEqualTo(top.get(0).get("logprob").asDouble());
            assertThat(token).isEqualTo(top.get(0).get("token").asText());
        }
        assertThat(text.toString()).isEqualTo(body.get("choices").get(0).get("message").get("content").asText());
    }

    @Test
    void chatLogprobsWithoutTopHaveEmptyAlternatives() throws Exception {
        JsonNode body = fx.ok(fx.post("/v1/chat/completions", """
                {"model":"stories260K","messages":[{"role":"user","content":"Hi"}],"max_tokens":3,
                 "temperature":0,"ignore_eos":true,"logprobs":true}
                """));
        for (JsonNode e : body.get("choices").get(0).get("logprobs").get("content")) {
            assertThat(e.get("top_logprobs")).isEmpty();
            assertThat(e.get("logprob").asDouble()).isLessThanOrEqualTo(0);
        }
    }

    @Test
    void completionLogprobsHaveLegacyShape() throws Exception {
        JsonNode body = fx.ok(fx.post("/v1/completions", """
                {"model":"stories260K","prompt":"Once upon a time","max_tokens":8,"temperature":0,
                 "ignore_eos":true,"logprobs":4}
                """));
        JsonNode choice = body.get("choices").get(0);
        JsonNode lp = choice.get("logprobs");
        JsonNode tokens = lp.get("tokens");
        assertThat(tokens).hasSize(8);
        assertThat(lp.get("token_logprobs")).hasSize(8);
        assertThat(lp.get("top_logprobs")).hasSize(8);
        assertThat(lp.get("text_offset")).hasSize(8);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            assertThat(lp.get("text_offset").get(i).asInt()).isEqualTo(text.length());
            text.append(tokens.get(i).asText());
            double chosen = lp.get("token_logprobs").get(i).asDouble();
            assertThat(chosen).isLessThanOrEqualTo(0);
            JsonNode top = lp.get("top_logprobs").get(i);
            assertThat(top.size()).isBetween(1, 5);
            double max = Double.NEGATIVE_INFINITY;
            for (Iterator<Map.Entry<String, JsonNode>> it = top.fields(); it.hasNext(); ) {
                max = Math.max(max, it.next().getValue().asDouble());
            }
            assertThat(chosen).isEqualTo(max);
            assertThat(top.get(tokens.get(i).asText()).asDouble()).isEqualTo(chosen);
        }
        assertThat(text.toString()).isEqualTo(choice.get("text").asText());
    }

    @Test
    void logprobsAreNullWhenNotAsked() throws Exception {
        JsonNode body = fx.ok(fx.post("/v1/completions", """
                {"model":"stories260K","prompt":"Once","max_tokens":2,"temperature":0}
                """));
        assertThat(body.get("choices").get(0).get("logprobs").isNull()).isTrue();
    }

    @Test
    void nChoicesWithSeedHaveIndexesAndSummedUsage() throws Exception {
        JsonNode body = fx.ok(fx.post("/v1/completions", """
                {"model":"stories260K","prompt":"Once upon a time","max_tokens":5,"temperature":0,
                 "ignore_eos":true,"n":3,"seed":11}
                """));
        JsonNode choices = body.get("choices");
        assertThat(choices).hasSize(3);
        for (int i = 0; i < 3; i++) {
            assertThat(choices.get(i).get("index").asInt()).isEqualTo(i);
            assertThat(choices.get(i).get("text").asText()).isEqualTo(choices.get(0).get("text").asText());
        }
        JsonNode one = fx.ok(fx.post("/v1/completions", """
                {"model":"stories260K","prompt":"Once upon a time","max_tokens":5,"temperature":0,"ignore_eos":true}
                """));
        assertThat(body.get("usage").get("completion_tokens").asInt()).isEqualTo(15);
        assertThat(body.get("usage").get("prompt_tokens").asInt())
                .isEqualTo(one.get("usage").get("prompt_tokens").asInt());
    }

    @Test
    void sampledChatChoicesAreReproducibleWithASeed() throws Exception {
        String req = """
                {"model":"stories260K","messages":[{"role":"user","content":"Hi"}],"max_tokens":8,
                 "temperature":1,"n":3,"seed":5}
                """;
        JsonNode a = fx.ok(fx.post("/v1/chat/completions", req));
        JsonNode b = fx.ok(fx.post("/v1/chat/completions", req));
        assertThat(a.get("choices")).hasSize(3);
        for (int i = 0; i < 3; i++) {
            assertThat(a.get("choices").get(i).get("index").asInt()).isEqualTo(i);
            assertThat(a.get("choices").get(i).get("message").get("content").asText())
                    .isEqualTo(b.get("choices").get(i).get("message").get("content").asText());
        }
    }

    @Test
    void streamedChoicesCarryBothIndexesAndEndWithDone() throws Exception {
        HttpResponse<String> r = fx.post("/v1/chat/completions", """
                {"model":"stories260K","messages":[{"role":"user","content":"Hi"}],"max_tokens":6,
                 "temperature":0,"ignore_eos":true,"n":2,"stream":true,"logprobs":true,"top_logprobs":2,
                 "stream_options":{"include_usage":true}}
                """);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).endsWith("data: [DONE]\n\n");
        Set<Integer> indexes = new HashSet<>();
        StringBuilder[] texts = {new StringBuilder(), new StringBuilder()};
        int[] finished = new int[2];
        int[] logprobs = new int[2];
        JsonNode last = null;
        for (String event : r.body().split("\n\n")) {
            String data = event.substring("data: ".length());
            if (data.equals("[DONE]")) {
                continue;
            }
            last = json.readTree(data);
            for (JsonNode choice : last.get("choices")) {
                int i = choice.get("index").asInt();
                indexes.add(i);
                JsonNode content = choice.get("delta").get("content");
                if (content != null) {
                    texts[i].append(content.asText());
                }
                if (!choice.get("finish_reason").isNull()) {
                    finished[i]++;
                }
                if (!choice.get("logprobs").isNull()) {
                    logprobs[i] += choice.get("logprobs").get("content").size();
                }
            }
        }
        assertThat(indexes).containsExactlyInAnyOrder(0, 1);
        assertThat(finished).containsExactly(1, 1);
        assertThat(logprobs).containsExactly(6, 6);
        assertThat(texts[0].toString()).isEqualTo(texts[1].toString());
        assertThat(last.get("usage").get("completion_tokens").asInt()).isEqualTo(12);
    }

    @Test
    void outOfRangeChoicesAndLogprobsAre400() throws Exception {
        for (String[] c : new String[][] {
                {"/v1/completions", "\"prompt\":\"Hi\",\"n\":9", "n"},
                {"/v1/completions", "\"prompt\":\"Hi\",\"logprobs\":21", "logprobs"},
                {"/v1/completions", "\"prompt\":\"Hi\",\"logprobs\":true", "logprobs"},
                {"/v1/chat/completions", "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"top_logprobs\":21,"
                        + "\"logprobs\":true", "top_logprobs"},
                {"/v1/chat/completions", "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"top_logprobs\":2",
                        "top_logprobs"},
                {"/v1/chat/completions", "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"logprobs\":2",
                        "logprobs"}}) {
            HttpResponse<String> r = fx.post(c[0], "{\"model\":\"stories260K\"," + c[1] + "}");
            assertThat(r.statusCode()).as(c[1]).isEqualTo(400);
            assertThat(json.readTree(r.body()).get("error").get("param").asText()).as(c[1]).isEqualTo(c[2]);
        }
    }

    @Test
    void clientLeavingAStreamOfSeveralChoicesAbortsThemAll() throws Exception {
        try (ServerFixture slow = new ServerFixture(ServerConfig.local(0), SlowRunners.withStepMillis(5))) {
            String body = "{\"model\":\"stories260K\",\"prompt\":\"Once upon a time\",\"max_tokens\":200,"
                    + "\"ignore_eos\":true,\"stream\":true,\"n\":3}";
            try (Socket s = slow.openPost("/v1/completions", body)) {
                InputStream in = s.getInputStream();
                StringBuilder seen = new StringBuilder();
                while (!seen.toString().contains("data: ")) {
                    int b = in.read();
                    assertThat(b).isNotNegative();
                    seen.append((char) b);
                }
            }
            slow.assertIdleWithin(10_000);
            assertThat(slow.get("/metrics").body()).containsPattern(
                    "bulkhead_requests_finished_total\\{[^}]*finish_reason=\"abort\"[^}]*} 3\\.0");
        }
    }
}
