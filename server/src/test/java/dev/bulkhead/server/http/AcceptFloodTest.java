package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The connection flood of issue 13, against {@code bulkhead serve} in a child JVM allowed {@value #FD_LIMIT} open
 * files: {@value #FLOOD} connections (the limit plus 100) each send half a request and hold it. Before the fix the
 * accept loop died on EMFILE ("Too many open files ... server socket is terminating now") and the server never
 * answered again. Now:
 * <ul>
 *   <li>with the automatic cap, connections past it are refused with a 503 before the process runs out of files,
 *   accept never fails, and {@code /health} answers as soon as the flood lets go;</li>
 *   <li>with a cap set above the limit, accept does fail with EMFILE: the loop backs off and retries, logging one
 *   line for the whole burst, and {@code /health} answers once the flood lets go.</li>
 * </ul>
 */
class AcceptFloodTest {

    private static final int FD_LIMIT = 256;
    private static final int FLOOD = FD_LIMIT + 100;
    private static final String HALF_REQUEST = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    private static final String ACCEPT_FAILED = "accepting a connection failed";
    private static final String ACCEPTING_AGAIN = "accepting connections again";

    @BeforeAll
    static void linuxWithBash() {
        assumeThat(System.getProperty("os.name")).as("ulimit through bash").startsWith("Linux");
    }

    @Test
    void withTheAutomaticCapTheFloodIsRefusedBeforeTheFdLimitAndHealthAnswersAfter() throws Exception {
        try (ChildServer child = new ChildServer(FD_LIMIT, "--header-timeout", "120")) {
            Matcher cap = Pattern.compile("accepting up to (\\d+) connections").matcher(child.output());
            assertThat(cap.find()).as(child.output()).isTrue();
            int allowed = Integer.parseInt(cap.group(1)) + ConnectionLimits.OPS_RESERVE;
            assertThat(allowed).isLessThan(FD_LIMIT);
            List<SocketChannel> flood = flood(child.port());
            try {
                int held = awaitHeld(flood, allowed);
                System.out.println("AcceptFloodTest: automatic cap " + allowed + " of " + FD_LIMIT + " files; "
                        + held + " of " + FLOOD + " connections held, " + (FLOOD - held) + " refused");
                assertThat(held).as("connections held").isLessThanOrEqualTo(allowed);
                assertThat(FLOOD - held).as("connections refused").isGreaterThanOrEqualTo(FLOOD - allowed);
                assertThat(child.alive()).isTrue();
            } finally {
                release(flood);
            }
            assertThat(awaitHealth(child)).as("/health after the flood\n" + child.output()).isEqualTo(200);
            assertThat(child.output()).doesNotContain("Too many open files").doesNotContain(ACCEPT_FAILED);
            assertThat(child.body("/metrics")).containsPattern(
                    "bulkhead_http_connections_closed_total\\{[^}]*reason=\"refused\"[^}]*} [1-9]");
        }
    }

    @Test
    void withACapAboveTheFdLimitAcceptSurvivesEmfileAndHealthAnswersAfter() throws Exception {
        try (ChildServer child = new ChildServer(FD_LIMIT, "--max-connections", "5000", "--header-timeout", "120")) {
            assertThat(child.output()).as("warned at start").contains("raise the limit (ulimit -n)");
            warmUp(child.port());
            List<SocketChannel> flood = flood(child.port());
            try {
                assertThat(child.awaitOutput(ACCEPT_FAILED, 20_000)).as("accept hit the fd limit\n"
                        + child.output()).isTrue();
                assertThat(child.output()).contains("Too many open files");
                // NOTE: hold the flood through several back-off rounds (50 ms doubling to 1 s).
                Thread.sleep(3_000);
                assertThat(child.alive()).isTrue();
            } finally {
                release(flood);
            }
            assertThat(awaitHealth(child)).as("/health after the flood\n" + child.output()).isEqualTo(200);
            assertThat(child.awaitOutput(ACCEPTING_AGAIN, 10_000)).isTrue();
            String metrics = child.body("/metrics");
            Matcher failures = Pattern.compile("(?m)^bulkhead_http_accept_failures_total(?:\\{[^}]*})? ([0-9.E]+)")
                    .matcher(metrics);
            assertThat(failures.find()).as(metrics + "\n" + child.output()).isTrue();
            double failed = Double.parseDouble(failures.group(1));
            int warned = child.count(ACCEPT_FAILED);
            System.out.println("AcceptFloodTest: " + (long) failed + " failed accepts, " + warned
                    + " WARN lines, " + child.count(ACCEPTING_AGAIN) + " recoveries");
            assertThat(failed).as("accept retried").isGreaterThan(warned);
            assertThat(warned).as("one line per burst").isLessThanOrEqualTo(child.count(ACCEPTING_AGAIN));
            assertThat(child.output()).doesNotContain("server socket is terminating");
        }
    }

    /**
     * Serves one of each kind of exchange before the flood, as a server in use has. NOTE: the child runs from
     * class directories and jars it opens on first use, so a class first needed while every descriptor is taken
     * cannot be loaded, and the JVM remembers that failure for good; the shaded {@code bulkhead.jar} keeps its one
     * file open and has no such gap.
     */
    private static void warmUp(int port) throws Exception {
        String body = "{\"model\":\"stories260K\",\"prompt\":\"Hi\",\"max_tokens\":2}";
        String post = "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length() + "\r\n\r\n" + body;
        try (RawConnection c = new RawConnection(port)) {
            for (String path : new String[] {"/health", "/ready", "/metrics", "/v1/models", "/nope"}) {
                c.send("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").read();
                c.send("HEAD " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").read(true);
            }
            c.send(post).read();
            c.send(post.replace("\"max_tokens\":2", "\"stream\":true,\"max_tokens\":2")
                    .replace("Content-Length: " + body.length(), "Content-Length: " + (body.length() + 14))).read();
        }
        try (RawConnection c = new RawConnection(port)) {
            c.send("GET /health HTTP/1.0\r\n\r\n").read();
        }
        try (RawConnection c = new RawConnection(port)) {
            c.send("GARBAGE\r\n\r\n").read();
        }
        try (RawConnection c = new RawConnection(port)) {
            c.send(HALF_REQUEST);
        }
    }

    /** Opens {@value #FLOOD} connections, each with half a request line sent. */
    private static List<SocketChannel> flood(int port) throws IOException {
        List<SocketChannel> out = new ArrayList<>(FLOOD);
        for (int i = 0; i < FLOOD; i++) {
            SocketChannel c = SocketChannel.open();
            c.socket().connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            out.add(c);
            try {
                c.write(ByteBuffer.wrap(HALF_REQUEST.getBytes(StandardCharsets.US_ASCII)));
            } catch (IOException e) {
                // NOTE: already refused and closed by the server; it still counts as part of the flood.
            }
        }
        return out;
    }

    /** How many of {@code flood} the server still holds open once the refusals have settled. */
    private static int awaitHeld(List<SocketChannel> flood, int allowed) throws Exception {
        for (SocketChannel c : flood) {
            c.configureBlocking(false);
        }
        boolean[] gone = new boolean[flood.size()];
        int held = flood.size();
        long until = System.nanoTime() + 15_000_000_000L;
        ByteBuffer buf = ByteBuffer.allocate(4096);
        while (System.nanoTime() < until) {
            held = 0;
            for (int i = 0; i < flood.size(); i++) {
                if (!gone[i]) {
                    try {
                        buf.clear();
                        gone[i] = flood.get(i).read(buf) != 0; // a 503 or end of stream: refused
                    } catch (IOException e) {
                        gone[i] = true; // reset: refused
                    }
                }
                held += gone[i] ? 0 : 1;
            }
            if (held <= allowed) {
                return held;
            }
            Thread.sleep(50);
        }
        return held;
    }

    private static void release(List<SocketChannel> flood) {
        for (SocketChannel c : flood) {
            try {
                c.close();
            } catch (IOException e) {
                // already closed
            }
        }
    }

    /** Polls {@code /health} for up to 20 s; the last status (-1: no answer). */
    private static int awaitHealth(ChildServer child) throws InterruptedException {
        int status = -1;
        long until = System.nanoTime() + 20_000_000_000L;
        while (status != 200 && System.nanoTime() < until) {
            status = child.get("/health", Duration.ofSeconds(2));
            if (status != 200) {
                Thread.sleep(100);
            }
        }
        return status;
    }
}
