package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * HTTP/1.x details, over raw sockets against a real server: HTTP/1.0 is served (closed unless keep-alive is asked,
 * never chunked), {@code Connection: close} closes the socket, HEAD works wherever GET does, 405 says {@code Allow},
 * oversized headers are a 431 and an oversized body announced with {@code Expect: 100-continue} a 413 instead of
 * {@code 100 Continue}, all in OpenAI's error shape.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpProtocolTest {

    private static final long MAX_BODY = 64 * 1024;
    private static final String STREAM_BODY = "{\"model\":\"stories260K\",\"prompt\":\"Once upon a time\","
            + "\"max_tokens\":12,\"temperature\":0,\"stream\":true}";

    private final ObjectMapper json = new ObjectMapper();
    private ServerFixture fx;

    @BeforeAll
    void start() {
        fx = new ServerFixture(ServerConfig.local(0).withMaxBodyBytes(MAX_BODY));
    }

    @AfterAll
    void stop() {
        fx.close();
    }

    private RawConnection connect() throws Exception {
        return new RawConnection(fx.server.port());
    }

    @Test
    void http10WithoutHostIsServedAndClosed() throws Exception {
        // NOTE: what HAProxy's "option httpchk GET /health" sends: HTTP/1.0, no Host, no Connection header.
        try (RawConnection c = connect()) {
            RawConnection.Response r = c.send("GET /health HTTP/1.0\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(json.readTree(r.text()).path("status").asText()).isEqualTo("ok");
            assertThat(r.header("connection")).isEqualToIgnoringCase("close");
            assertThat(c.closedByServerWithin(5_000)).as("closed after the answer").isTrue();
        }
    }

    @Test
    void http10KeepsTheConnectionOnlyWhenAsked() throws Exception {
        try (RawConnection c = connect()) {
            String req = "GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n";
            RawConnection.Response first = c.send(req).read();
            assertThat(first.status()).isEqualTo(200);
            assertThat(first.header("connection")).isEqualToIgnoringCase("keep-alive");
            RawConnection.Response second = c.send("GET /v1/models HTTP/1.0\r\n\r\n").read();
            assertThat(second.status()).isEqualTo(200);
            assertThat(second.text()).contains("stories260K");
            assertThat(c.closedByServerWithin(5_000)).as("second request did not ask keep-alive").isTrue();
        }
    }

    @Test
    void http10StreamComesWithoutChunkedFramingAndEndsAtClose() throws Exception {
        // NOTE: nginx proxies over HTTP/1.0 by default; such a client cannot read chunked framing (RFC 9112 6.1).
        try (RawConnection c = connect()) {
            c.send("POST /v1/completions HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: "
                    + STREAM_BODY.length() + "\r\n\r\n" + STREAM_BODY);
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("transfer-encoding")).isNull();
            assertThat(r.header("content-type")).startsWith("text/event-stream");
            String body = r.text();
            assertThat(body).startsWith("data: {").endsWith("data: [DONE]\n\n");
            StringBuilder text = new StringBuilder();
            for (String event : body.split("\n\n")) {
                assertThat(event).startsWith("data: ");
                if (!event.equals("data: [DONE]")) {
                    text.append(json.readTree(event.substring(6)).path("choices").path(0).path("text").asText());
                }
            }
            JsonNode whole = fx.ok(fx.post("/v1/completions", STREAM_BODY.replace("\"stream\":true",
                    "\"stream\":false")));
            assertThat(text.toString()).isEqualTo(whole.path("choices").path(0).path("text").asText());
        }
        fx.assertIdleWithin(5_000);
    }

    @Test
    void connectionCloseClosesTheSocketAndServesNothingAfter() throws Exception {
        try (RawConnection c = connect()) {
            // NOTE: a second request pipelined behind "close" must not be answered (RFC 9112 9.6).
            c.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                    + "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            RawConnection.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("connection")).isEqualToIgnoringCase("close");
            assertThat(c.closedByServerWithin(5_000)).as("socket closed after the answer").isTrue();
        }
    }

    @Test
    void keepAliveServesSeveralRequestsOnOneConnection() throws Exception {
        try (RawConnection c = connect()) {
            for (int i = 0; i < 3; i++) {
                RawConnection.Response r = c.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").read();
                assertThat(r.status()).isEqualTo(200);
            }
            String body = "{\"model\":\"stories260K\",\"prompt\":\"Hi\",\"max_tokens\":2}";
            RawConnection.Response post = c.send("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                    + "application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body).read();
            assertThat(post.status()).isEqualTo(200);
            assertThat(c.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").read().status()).isEqualTo(200);
            assertThat(c.closedByServerWithin(300)).as("still open between requests").isFalse();
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        String body = "{\"model\":\"stories260K\",\"prompt\":\"Hi\",\"max_tokens\":2}";
        try (RawConnection c = connect()) {
            // NOTE: all three in one write, so the second head and its body arrive with the first request.
            c.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                    + "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length() + "\r\n\r\n" + body
                    + "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            assertThat(c.read().text()).contains("\"ok\"");
            RawConnection.Response completion = c.read();
            assertThat(completion.status()).as(completion.text()).isEqualTo(200);
            assertThat(completion.text()).contains("text_completion");
            assertThat(c.read().text()).contains("stories260K");
            // NOTE: and the connection still reads a head sent in pieces afterwards.
            c.send("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n");
            Thread.sleep(50);
            c.send("Content-Length: " + body.length() + "\r\n\r\n");
            Thread.sleep(50);
            c.send(body);
            assertThat(c.read().status()).isEqualTo(200);
        }
    }

    @Test
    void headWorksWhereGetDoesWithTheSameHeadersAndNoBody() throws Exception {
        for (String path : new String[] {"/health", "/ready", "/v1/models", "/metrics", "/ready/stories260K"}) {
            try (RawConnection c = connect()) {
                RawConnection.Response head = c.send("HEAD " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                        .read(true);
                assertThat(head.status()).as(path).isEqualTo(200);
                assertThat(head.header("content-type")).as(path).isNotNull();
                assertThat(Integer.parseInt(head.header("content-length"))).as(path).isPositive();
                // NOTE: a GET on the same connection parses cleanly only if the HEAD answer carried no body bytes.
                RawConnection.Response get = c.send("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").read();
                assertThat(get.status()).as(path).isEqualTo(200);
                assertThat(get.body()).as(path).isNotEmpty();
                if (!path.equals("/metrics")) {
                    assertThat(get.header("content-length")).as(path).isEqualTo(head.header("content-length"));
                }
            }
        }
    }

    @Test
    void wrongMethodIs405WithAllow() throws Exception {
        try (RawConnection c = connect()) {
            RawConnection.Response r = c.send("DELETE /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(405);
            assertThat(r.header("allow")).isEqualTo("GET, HEAD");
            assertThat(json.readTree(r.text()).path("error").path("code").asText()).isEqualTo("method_not_allowed");
            RawConnection.Response get = c.send("GET /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").read();
            assertThat(get.status()).isEqualTo(405);
            assertThat(get.header("allow")).isEqualTo("POST");
        }
    }

    @Test
    void oversizedHeadersAre431InOpenAiShape() throws Exception {
        try (RawConnection c = connect()) {
            String big = "X-Filler: " + "a".repeat(ConnectionLimits.MAX_HEADER_BYTES) + "\r\n";
            RawConnection.Response r = c.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + big + "\r\n").read();
            assertThat(r.status()).isEqualTo(431);
            JsonNode err = json.readTree(r.text()).path("error");
            assertThat(err.path("type").asText()).isEqualTo("invalid_request_error");
            assertThat(err.path("code").asText()).isEqualTo("request_header_fields_too_large");
            assertThat(err.path("message").asText()).isNotBlank();
            assertThat(c.closedByServerWithin(5_000)).isTrue();
        }
        // NOTE: many headers that are each small count too.
        try (RawConnection c = connect()) {
            StringBuilder many = new StringBuilder("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n");
            for (int i = 0; i < 2_000; i++) {
                many.append("X-H").append(i).append(": value\r\n");
            }
            assertThat(c.send(many.append("\r\n").toString()).read().status()).isEqualTo(431);
        }
        try (RawConnection c = connect()) {
            String fits = "X-Filler: " + "a".repeat(ConnectionLimits.MAX_HEADER_BYTES - 200) + "\r\n";
            assertThat(c.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + fits + "\r\n").read().status())
                    .as("headers just under the limit").isEqualTo(200);
        }
    }

    @Test
    void expectContinueWithOversizedLengthGets413Instead() throws Exception {
        try (RawConnection c = connect()) {
            c.send("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + (MAX_BODY + 1) + "\r\nExpect: 100-continue\r\n\r\n");
            RawConnection.Response r = c.read();
            assertThat(r.status()).as("first answer, not 100 Continue").isEqualTo(413);
            assertThat(json.readTree(r.text()).path("error").path("code").asText()).isEqualTo("request_too_large");
            assertThat(c.closedByServerWithin(5_000)).isTrue();
        }
        String body = "{\"model\":\"stories260K\",\"prompt\":\"Hi\",\"max_tokens\":2}";
        try (RawConnection c = connect()) {
            c.send("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length() + "\r\nExpect: 100-continue\r\n\r\n");
            assertThat(c.read().status()).as("a body within the limit is invited").isEqualTo(100);
            assertThat(c.send(body.getBytes(StandardCharsets.UTF_8)).read().status()).isEqualTo(200);
        }
    }

    @Test
    void malformedRequestLineIs400InOpenAiShape() throws Exception {
        try (RawConnection c = connect()) {
            RawConnection.Response r = c.send("GARBAGE\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(400);
            assertThat(json.readTree(r.text()).path("error").path("type").asText())
                    .isEqualTo("invalid_request_error");
        }
    }
}
