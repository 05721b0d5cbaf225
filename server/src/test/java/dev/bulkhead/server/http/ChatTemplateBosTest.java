package dev.bulkhead.server.http;

import dev.bulkhead.engine.chat.ChatTemplateSource;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.model.ModelLoader;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A chat template that writes {@code bos_token} itself (as Llama's, Mistral's and Gemma's do) starts the prompt with
 * one BOS, not two: its output is encoded without the tokenizer's special tokens, and {@code /tokenize} counts it
 * the same way by default.
 */
class ChatTemplateBosTest {

    private static final String TEMPLATE = "{{ bos_token }}{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n"
            + "{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}";
    private static final String MESSAGES = "[{\"role\":\"user\",\"content\":\"Tell me about a cat.\"}]";

    private static LlmEngine engine;
    private static BulkheadServer server;
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        engine = new LlmEngine(ServerFixture.MODEL, ModelLoader.load(null),
                EngineOptions.defaults().withThreads(1).withKvCacheBytes(1 << 20).withMaxModelLen(256), registry,
                dev.bulkhead.engine.internal.runner.ModelRunnerFactory.CPU);
        ModelBackend withTemplate = new ForwardingBackend(new EngineBackend(ServerFixture.MODEL, engine)) {
            @Override
            public Optional<ChatTemplateSource> chatTemplate(String model) {
                return Optional.of(new ChatTemplateSource(TEMPLATE, engine.model().specialTokens()));
            }
        };
        server = BulkheadServer.start(ServerConfig.local(0), withTemplate, registry);
    }

    @AfterAll
    static void stop() {
        server.stop();
        engine.close();
    }

    private static JsonNode post(String path, String body) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private static List<Integer> ids(JsonNode tokens) {
        List<Integer> out = new ArrayList<>();
        tokens.forEach(t -> out.add(t.asInt()));
        return out;
    }

    @Test
    void theTemplatesBosIsTheOnlyOne() throws Exception {
        int bos = engine.tokenizer().bosId();
        List<Integer> tokens = ids(post("/tokenize", "{\"model\":\"stories260K\",\"messages\":" + MESSAGES + "}")
                .get("tokens"));
        assertThat(tokens.getFirst()).isEqualTo(bos);
        assertThat(tokens.get(1)).as("no second BOS").isNotEqualTo(bos);
        assertThat(tokens.stream().filter(t -> t == bos).count()).isEqualTo(1);

        JsonNode chat = post("/v1/chat/completions", "{\"model\":\"stories260K\",\"messages\":" + MESSAGES
                + ",\"max_tokens\":1}");
        assertThat(chat.get("usage").get("prompt_tokens").asInt()).as("the chat bills what /tokenize counts")
                .isEqualTo(tokens.size());

        List<Integer> asked = ids(post("/tokenize", "{\"model\":\"stories260K\",\"messages\":" + MESSAGES
                + ",\"add_special_tokens\":true}").get("tokens"));
        assertThat(asked).as("asking for special tokens adds the tokenizer's BOS in front").hasSize(tokens.size() + 1)
                .startsWith(bos, bos);
    }
}
