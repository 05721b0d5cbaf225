package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The connection cap, from outside: with {@code maxConnections} connections open, the next
 * {@link ConnectionLimits#OPS_RESERVE} may still ask {@code /health} (and are closed after it) but get a 503 for
 * anything else; past those, a new connection gets a 503 in OpenAI's shape at once and is closed; reserve slots held
 * by silent connections free up within seconds, so a probe gets through while the cap is still full; once
 * connections close, new ones are served again.
 */
class ConnectionCapTest {

    private static final int MAX = 4;
    private static final String COMPLETION = "{\"model\":\"stories260K\",\"prompt\":\"Hi\",\"max_tokens\":2}";

    private final ObjectMapper json = new ObjectMapper();

    @Test
    void pastTheCapOnlyProbesAreServedThenConnectionsAreRefusedUntilSomeClose() throws Exception {
        ConnectionLimits limits = ConnectionLimits.defaults().withMaxConnections(MAX);
        try (ServerFixture fx = new ServerFixture(ServerConfig.local(0).withConnections(limits))) {
            int port = fx.server.port();
            List<RawConnection> held = new ArrayList<>();
            try {
                for (int i = 0; i < MAX; i++) {
                    held.add(new RawConnection(port));
                }
                try (RawConnection probe = new RawConnection(port)) {
                    RawConnection.Response health = probe.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                            .read();
                    assertThat(health.status()).as("a probe on a reserve slot").isEqualTo(200);
                    assertThat(health.header("connection")).isEqualToIgnoringCase("close");
                    assertThat(probe.closedByServerWithin(5_000)).isTrue();
                }
                try (RawConnection api = new RawConnection(port)) {
                    RawConnection.Response r = api.send(post(COMPLETION)).read();
                    assertThat(r.status()).as("the API on a reserve slot").isEqualTo(503);
                    assertTooManyConnections(r);
                }
                // NOTE: the probe's and the API call's reserve slots free once the server has seen them close. A slot
                // still held here would turn one of the connections below away and later let the one meant to be
                // refused in, silent on a reserve slot until its header timeout (seen under CI load).
                awaitOpenConnections(fx, MAX);
                for (int i = 0; i < ConnectionLimits.OPS_RESERVE; i++) {
                    held.add(new RawConnection(port));
                }
                try (RawConnection refused = new RawConnection(port)) {
                    RawConnection.Response r = refused.read();
                    assertThat(r.status()).as("past the reserve, before sending anything").isEqualTo(503);
                    assertThat(r.header("retry-after")).isEqualTo("1");
                    assertTooManyConnections(r);
                    assertThat(refused.closedByServerWithin(5_000)).isTrue();
                }
                // NOTE: silent connections on reserve slots get ConnectionGuard.OPS_HEADER_TIMEOUT, not the 20 s the
                // others get, so a probe gets through again while the cap is still full.
                int probe = 0;
                for (int i = 0; i < 100 && probe != 200; i++) {
                    Thread.sleep(100);
                    try (RawConnection c = new RawConnection(port)) {
                        probe = c.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").read().status();
                    }
                }
                assertThat(probe).as("a probe once the reserve's silent connections were cut").isEqualTo(200);
                assertThat(held.subList(0, MAX)).allSatisfy(c -> assertThat(c.closedByServerWithin(1))
                        .as("normal slots still held").isFalse());
            } finally {
                for (RawConnection c : held) {
                    c.close();
                }
            }
            // NOTE: slots free as the server notices the closes, so allow it a moment.
            int status = 0;
            for (int i = 0; i < 200 && status != 200; i++) {
                status = fx.post("/v1/completions", COMPLETION).statusCode();
                if (status != 200) {
                    Thread.sleep(25);
                }
            }
            assertThat(status).as("served again once connections closed").isEqualTo(200);
            String metrics = fx.get("/metrics").body();
            assertThat(metrics).containsPattern(
                    "bulkhead_http_connections_closed_total\\{[^}]*reason=\"refused\"[^}]*} [1-9]");
            assertThat(metrics).contains("bulkhead_http_connections_open");
        }
    }

    /** Waits (up to 10 s) until the server counts {@code n} open connections. */
    private static void awaitOpenConnections(ServerFixture fx, int n) throws InterruptedException {
        double open = -1;
        for (int i = 0; i < 400; i++) {
            open = fx.registry.get("bulkhead.http.connections.open").gauge().value();
            if (open == n) {
                return;
            }
            Thread.sleep(25);
        }
        assertThat(open).as("open connections before the reserve is filled").isEqualTo(n);
    }

    private void assertTooManyConnections(RawConnection.Response r) throws Exception {
        JsonNode err = json.readTree(r.text()).path("error");
        assertThat(err.path("type").asText()).isEqualTo("service_unavailable");
        assertThat(err.path("code").asText()).isEqualTo("too_many_connections");
        assertThat(err.path("message").asText()).isNotBlank();
    }

    private static String post(String body) {
        return "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length() + "\r\n\r\n" + body;
    }
}
