package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.net.Socket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A client that closes its connection while a non-streamed request computes: nothing is written until the end, so
 * only the {@link DisconnectWatcher} can notice, and it must abort the request and free its blocks at once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientDisconnectTest {

    private ServerFixture fx;

    @BeforeAll
    void start() {
        // NOTE: 20 ms a step makes a 200-token answer take 4 s or more, far longer than noticing should.
        fx = new ServerFixture(ServerConfig.local(0), SlowRunners.withStepMillis(20));
    }

    @AfterAll
    void stop() {
        fx.close();
    }

    @Test
    void clientLeavingANonStreamedRequestAbortsItWithinAPoll() throws Exception {
        assumeThat(DisconnectWatcher.system().available()).as("a kernel TCP table (Linux)").isTrue();
        String body = "{\"model\":\"stories260K\",\"prompt\":\"Once upon a time\",\"max_tokens\":200,"
                + "\"ignore_eos\":true}";
        long closed;
        try (Socket s = fx.openPost("/v1/completions", body)) {
            long until = System.nanoTime() + 10_000_000_000L;
            while (fx.engine.inFlight() == 0 && System.nanoTime() < until) {
                Thread.sleep(5);
            }
            assertThat(fx.engine.inFlight()).as("request admitted").isOne();
            closed = System.nanoTime();
        }
        fx.assertIdleWithin(10_000);
        long tookMillis = (System.nanoTime() - closed) / 1_000_000;
        System.out.println("ClientDisconnectTest: close noticed, request aborted and blocks freed in " + tookMillis
                + " ms");
        // NOTE: one watcher period (200 ms) plus scheduling slack on a busy 2-core box; the request itself needs 4 s.
        assertThat(tookMillis).isLessThan(2_000);
        // NOTE: the finish is counted just after the request leaves the in-flight map, so give it a moment.
        java.util.regex.Pattern aborted = java.util.regex.Pattern.compile(
                "bulkhead_requests_finished_total\\{[^}]*finish_reason=\"abort\"[^}]*} 1\\.0");
        String metrics = fx.get("/metrics").body();
        for (int i = 0; i < 100 && !aborted.matcher(metrics).find(); i++) {
            Thread.sleep(20);
            metrics = fx.get("/metrics").body();
        }
        assertThat(metrics).containsPattern(aborted);
        assertThat(metrics).containsPattern("bulkhead_http_requests_total\\{[^}]*status=\"499\"[^}]*} 1\\.0");
    }
}
