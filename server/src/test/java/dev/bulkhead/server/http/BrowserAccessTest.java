package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What a web page can do with the server, over raw sockets so {@code Host} and {@code Origin} are exactly what a
 * browser would send: DNS rebinding (a foreign {@code Host}) and cross-site requests (a foreign {@code Origin}) are
 * refused without API keys, requests without {@code Origin} (curl, SDKs) are served, and CORS answers only the
 * configured origins.
 */
class BrowserAccessTest {

    private static final String COMPLETION = "{\"model\":\"stories260K\",\"prompt\":\"Once upon a time\","
            + "\"max_tokens\":2}";
    private static final String KEY = "sk-test-0123456789abcdef";
    private final ObjectMapper json = new ObjectMapper();

    private void assertRefused(RawHttp.Response r, String code) throws Exception {
        assertThat(r.status()).as(r.body()).isEqualTo(403);
        JsonNode e = json.readTree(r.body()).get("error");
        assertThat(e.get("code").asText()).isEqualTo(code);
        assertThat(e.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(e.get("message").asText()).isNotBlank();
    }

    @Test
    void withoutKeysOnlyLoopbackHostsAreAnswered() throws Exception {
        try (ServerFixture fx = new ServerFixture()) {
            int port = fx.server.port();
            for (String host : List.of("127.0.0.1:" + port, "localhost:" + port, "LocalHost", "[::1]:" + port,
                    "app.localhost:" + port, "127.8.9.10")) {
                assertThat(RawHttp.exchange(port, "GET", "/health", null, "Host: " + host).status()).as(host)
                        .isEqualTo(200);
            }
            for (String host : List.of("evil.example:" + port, "evil.example", "127.0.0.1.nip.io:" + port,
                    "0.0.0.0:" + port, "192.168.1.20:" + port, "localhost.evil.example")) {
                assertRefused(RawHttp.exchange(port, "GET", "/health", null, "Host: " + host), "host_not_allowed");
            }
            // NOTE: the rebinding attack proper: a page on evil.example, re-resolved to 127.0.0.1, posts to /v1/.
            assertRefused(RawHttp.exchange(port, "POST", "/v1/completions", COMPLETION, "Host: evil.example:" + port,
                    "Content-Type: text/plain"), "host_not_allowed");
            fx.assertIdleWithin(1_000);
        }
    }

    @Test
    void withoutKeysARequestFromAForeignOriginIsRefusedAndOneWithoutOriginServed() throws Exception {
        try (ServerFixture fx = new ServerFixture()) {
            int port = fx.server.port();
            String host = "Host: 127.0.0.1:" + port;
            // NOTE: a text/plain POST is a "simple" request: the browser sends it without asking first.
            RawHttp.Response csrf = RawHttp.exchange(port, "POST", "/v1/completions", COMPLETION, host,
                    "Content-Type: text/plain", "Origin: https://evil.example");
            assertRefused(csrf, "origin_not_allowed");
            assertThat(csrf.header("Access-Control-Allow-Origin")).isEmpty();
            assertThat(fx.get("/metrics").body()).as("the engine generated nothing")
                    .containsPattern("bulkhead_generation_tokens_total\\{[^}]*} 0\\.0");
            assertRefused(RawHttp.exchange(port, "GET", "/v1/models", null, host, "Origin: null"),
                    "origin_not_allowed");
            // NOTE: the default allows no origin at all, not even a page on localhost: CORS is off until configured.
            assertRefused(RawHttp.exchange(port, "OPTIONS", "/v1/completions", null, host,
                    "Origin: http://localhost:3000", "Access-Control-Request-Method: POST"), "origin_not_allowed");

            RawHttp.Response curl = RawHttp.exchange(port, "POST", "/v1/completions", COMPLETION, host,
                    "Content-Type: application/json");
            assertThat(curl.status()).as(curl.body()).isEqualTo(200);
            assertThat(curl.header("Access-Control-Allow-Origin")).isEmpty();
            assertThat(curl.header("Vary")).isEmpty();
        }
    }

    @Test
    void configuredOriginsGetCorsAndPreflightsAndConfiguredHostsAreAnswered() throws Exception {
        ServerConfig config = ServerConfig.local(0).withBrowserAccess(
                BrowserAccess.parse("llm.internal, *.lan", "http://localhost:3000, https://app.example.com/"));
        try (ServerFixture fx = new ServerFixture(config)) {
            int port = fx.server.port();
            String host = "Host: llm.internal:" + port;
            RawHttp.Response preflight = RawHttp.exchange(port, "OPTIONS", "/v1/chat/completions", null, host,
                    "Origin: https://app.example.com", "Access-Control-Request-Method: POST",
                    "Access-Control-Request-Headers: content-type, authorization, x-stainless-os");
            assertThat(preflight.status()).isEqualTo(204);
            assertThat(preflight.header("Access-Control-Allow-Origin")).hasValue("https://app.example.com");
            assertThat(preflight.header("Access-Control-Allow-Methods")).hasValueSatisfying(m ->
                    assertThat(m).contains("POST").contains("GET"));
            assertThat(preflight.header("Access-Control-Allow-Headers"))
                    .hasValue("content-type, authorization, x-stainless-os");
            assertThat(preflight.header("Access-Control-Max-Age")).isPresent();
            assertThat(preflight.header("Vary")).hasValue("Origin");

            RawHttp.Response post = RawHttp.exchange(port, "POST", "/v1/completions", COMPLETION, host,
                    "Content-Type: application/json", "Origin: http://localhost:3000");
            assertThat(post.status()).as(post.body()).isEqualTo(200);
            assertThat(post.header("Access-Control-Allow-Origin")).hasValue("http://localhost:3000");
            assertThat(post.header("Access-Control-Expose-Headers")).hasValueSatisfying(h ->
                    assertThat(h).contains("X-Request-Id"));

            assertRefused(RawHttp.exchange(port, "OPTIONS", "/v1/completions", null, host,
                    "Origin: http://localhost:3001", "Access-Control-Request-Method: POST"), "origin_not_allowed");
            assertRefused(RawHttp.exchange(port, "POST", "/v1/completions", COMPLETION, host,
                    "Content-Type: text/plain", "Origin: http://localhost:3001"), "origin_not_allowed");
            assertThat(RawHttp.exchange(port, "GET", "/health", null, "Host: box.lan").status()).isEqualTo(200);
            assertRefused(RawHttp.exchange(port, "GET", "/health", null, "Host: box.lan.evil.example"),
                    "host_not_allowed");
        }
    }

    @Test
    void withApiKeysHostAndOriginAreLeftToTheKeys() throws Exception {
        ServerConfig config = ServerConfig.local(0).withApiKeys(ApiKeys.parse(KEY, "\\R", "test"));
        try (ServerFixture fx = new ServerFixture(config)) {
            int port = fx.server.port();
            RawHttp.Response noKey = RawHttp.exchange(port, "POST", "/v1/completions", COMPLETION,
                    "Host: evil.example", "Content-Type: text/plain", "Origin: https://evil.example");
            assertThat(noKey.status()).isEqualTo(401);
            assertThat(noKey.header("Access-Control-Allow-Origin")).isEmpty();
            assertThat(RawHttp.exchange(port, "POST", "/v1/completions", COMPLETION, "Host: my-server.example",
                    "Content-Type: application/json", "Authorization: Bearer " + KEY).status()).isEqualTo(200);
        }
    }

    @Test
    void badSettingsAreRefusedWithTheValueAndAnExample() {
        assertThatThrownBy(() -> BrowserAccess.parse(null, "localhost:3000/app")).hasMessageContaining(
                "'localhost:3000/app'").hasMessageContaining("scheme://host[:port]");
        assertThatThrownBy(() -> BrowserAccess.parse("evil.example/x", null)).hasMessageContaining("allowed host");
        assertThat(BrowserAccess.parse(" ", "").corsEnabled()).isFalse();
        assertThat(BrowserAccess.parse(null, "HTTP://LocalHost:3000/").allowsOrigin("http://localhost:3000"))
                .isTrue();
    }
}
