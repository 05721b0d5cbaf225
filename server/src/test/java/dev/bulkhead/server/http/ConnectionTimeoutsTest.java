package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Clients that send or read too slowly, from outside over raw sockets against a server with 1-second limits: a half
 * request line, a connection that sends nothing, headers dripped a line at a time, a body shorter than its
 * {@code Content-Length} and an idle keep-alive connection are all closed by the server, each counted under its
 * reason in {@code /metrics}; a streaming client that stops reading is dropped and its request aborted, which frees
 * its KV blocks. Elapsed times are printed, not asserted: the assertions are that the server closes at all (within
 * a bound far above the limit) and why.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConnectionTimeoutsTest {

    private static final Duration LIMIT = Duration.ofSeconds(1);
    /** Far above the 1 s limits: only a server that never closes fails it. */
    private static final int CLOSE_WITHIN_MILLIS = 10_000;

    private ServerFixture fx;

    @BeforeAll
    void start() {
        ConnectionLimits limits = ConnectionLimits.defaults().withHeaderTimeout(LIMIT).withBodyTimeout(LIMIT)
                .withIdleTimeout(LIMIT).withStreamStallTimeout(LIMIT).withSendBufferBytes(4096);
        // NOTE: 20 ms a step makes a 240-token stream take about 5 s, far longer than a stall takes to notice.
        fx = new ServerFixture(ServerConfig.local(0).withConnections(limits), SlowRunners.withStepMillis(20));
    }

    @AfterAll
    void stop() {
        fx.close();
    }

    private RawConnection connect() throws Exception {
        return new RawConnection(fx.server.port());
    }

    private void assertClosedByServer(RawConnection c, String what) throws Exception {
        long start = System.nanoTime();
        assertThat(c.closedByServerWithin(CLOSE_WITHIN_MILLIS)).as(what + ": closed by the server").isTrue();
        System.out.println("ConnectionTimeoutsTest: " + what + " closed after "
                + (System.nanoTime() - start) / 1_000_000 + " ms");
    }

    @Test
    void halfSentRequestLineIsClosed() throws Exception {
        double before = closed("header_timeout");
        try (RawConnection c = connect()) {
            c.send("GET /hea");
            assertClosedByServer(c, "half request line");
        }
        assertClosedCountAbove("header_timeout", before);
    }

    @Test
    void connectionThatSendsNothingIsClosed() throws Exception {
        double before = closed("header_timeout");
        try (RawConnection c = connect()) {
            assertClosedByServer(c, "silent connection");
        }
        assertClosedCountAbove("header_timeout", before);
    }

    @Test
    void headersDrippedSlowlyAreCutAtTheHeaderDeadline() throws Exception {
        // NOTE: each line comes well within the limit, so only a deadline for the whole head ends this.
        double before = closed("header_timeout");
        try (RawConnection c = connect()) {
            c.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n");
            boolean cut = false;
            for (int i = 0; i < 40 && !cut; i++) {
                Thread.sleep(250);
                try {
                    c.send("X-Drip-" + i + ": x\r\n");
                } catch (java.io.IOException e) {
                    cut = true;
                }
            }
            assertThat(cut || c.closedByServerWithin(CLOSE_WITHIN_MILLIS)).as("drip cut by the server").isTrue();
        }
        assertClosedCountAbove("header_timeout", before);
    }

    @Test
    void bodyShorterThanItsLengthIsClosedAndNothingReachesTheEngine() throws Exception {
        double before = closed("body_timeout");
        try (RawConnection c = connect()) {
            c.send("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 100\r\n\r\n{\"model\":");
            assertClosedByServer(c, "short body");
        }
        assertClosedCountAbove("body_timeout", before);
        fx.assertIdleWithin(1_000);
    }

    @Test
    void idleKeepAliveConnectionIsClosedAfterServing() throws Exception {
        double before = closed("idle_timeout");
        try (RawConnection c = connect()) {
            assertThat(c.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").read().status()).isEqualTo(200);
            assertThat(c.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").read().status())
                    .as("kept alive while used").isEqualTo(200);
            assertClosedByServer(c, "idle keep-alive connection");
        }
        assertClosedCountAbove("idle_timeout", before);
    }

    @Test
    void streamWhoseClientReadsNothingIsDroppedAndItsRequestAborted() throws Exception {
        double before = closed("stream_stalled");
        String body = "{\"model\":\"stories260K\",\"prompt\":\"Once upon a time\",\"max_tokens\":240,"
                + "\"ignore_eos\":true,\"stream\":true}";
        // NOTE: a small receive window, so the server's writes block soon after the client stops reading.
        try (RawConnection c = new RawConnection(fx.server.port(), 2048)) {
            c.send("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length() + "\r\n\r\n" + body);
            long until = System.nanoTime() + 10_000_000_000L;
            while (fx.engine.inFlight() == 0 && System.nanoTime() < until) {
                Thread.sleep(5);
            }
            assertThat(fx.engine.inFlight()).as("request admitted").isOne();
            long admitted = System.nanoTime();
            // the client reads nothing from here on
            fx.assertIdleWithin(15_000);
            System.out.println("ConnectionTimeoutsTest: stalled stream aborted and its blocks freed "
                    + (System.nanoTime() - admitted) / 1_000_000 + " ms after admission");
            assertClosedCountAbove("stream_stalled", before);
        }
        Pattern aborted = Pattern.compile("bulkhead_requests_finished_total\\{[^}]*finish_reason=\"abort\"[^}]*} "
                + "([0-9.]+)");
        assertThat(fx.get("/metrics").body()).as("ended by abort, not by running to its end")
                .containsPattern(aborted);
    }

    /** {@code bulkhead_http_connections_closed_total{reason=...}} as scraped now; 0 before the first. */
    /**
     * The close is counted by the server thread that closes the socket, which the client may see closed a moment
     * before the counter moves: wait up to 5 s for it.
     */
    private void assertClosedCountAbove(String reason, double before) throws Exception {
        long until = System.nanoTime() + 5_000_000_000L;
        while (closed(reason) <= before && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        assertThat(closed(reason)).as("connections closed by %s", reason).isGreaterThan(before);
    }

    private double closed(String reason) throws Exception {
        Matcher m = Pattern.compile("bulkhead_http_connections_closed_total\\{[^}]*reason=\"" + reason
                + "\"[^}]*} ([0-9.E]+)").matcher(fx.get("/metrics").body());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }
}
