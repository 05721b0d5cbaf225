package dev.bulkhead.server.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.model.ModelLoader;
import dev.bulkhead.server.cli.BulkheadCli;
import dev.bulkhead.server.http.BulkheadServer;
import dev.bulkhead.server.http.EngineBackend;
import dev.bulkhead.server.http.ServerConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bulkhead bench} against a real server over the embedded stories260K. No timing assertions. */
class BenchCommandTest {

    private static final String MODEL = "stories260K";
    private static BulkheadServer server;

    @BeforeAll
    static void startServer() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        EngineOptions options = EngineOptions.defaults().withThreads(1).withKvCacheBytes(1 << 20).withMaxModelLen(256);
        LlmEngine engine = new LlmEngine(MODEL, ModelLoader.load(null), options, registry, ModelRunnerFactory.CPU);
        server = BulkheadServer.start(ServerConfig.local(0), new EngineBackend(MODEL, engine), registry);
    }

    @AfterAll
    static void stopServer() {
        server.stop();
    }

    private static String url() {
        return "http://127.0.0.1:" + server.port();
    }

    @Test
    void replaysTraceAndWritesJson(@TempDir Path tmp) throws Exception {
        Path json = tmp.resolve("bench.json");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BulkheadCli.run(new String[] {"bench", "--url", url(), "--model", MODEL, "--rate", "20",
                "--requests", "8", "--seed", "3", "--prompt-median", "12", "--output-median", "8", "--max-prompt", "32",
                "--max-output", "16", "--max-model-len", "64", "--out", json.toString()},
                new PrintWriter(out), new PrintWriter(err));

        assertThat(code).as("stdout: %s%nstderr: %s", out, err).isZero();
        assertThat(out.toString()).contains("completed 8 of 8, errors 0").contains("TTFT").contains("TPOT")
                .contains("ITL").contains("E2E").contains("tok/s");
        assertThat(Files.isRegularFile(json)).isTrue();

        JsonNode root = new ObjectMapper().readTree(json.toFile());
        JsonNode summary = root.get("summary");
        assertThat(summary.get("completed").asInt()).isEqualTo(8);
        assertThat(summary.get("errors").asInt()).isZero();
        assertThat(summary.get("outputTokens").asLong()).isPositive();
        for (String metric : new String[] {"ttft", "tpot", "itl", "e2e"}) {
            for (String p : new String[] {"p50", "p90", "p99"}) {
                JsonNode v = summary.get(metric).get(p);
                assertThat(v.isNumber()).as("%s.%s = %s", metric, p, v).isTrue();
                assertThat(Double.isFinite(v.asDouble())).isTrue();
            }
        }
        assertThat(root.get("requests")).hasSize(8);
        // NOTE: ignore_eos and max_tokens make every request produce exactly its trace length.
        for (JsonNode r : root.get("requests")) {
            assertThat(r.get("error").isNull()).isTrue();
            assertThat(r.get("output_tokens").asInt()).isPositive();
        }
    }

    @Test
    void chatEndpointAndInfiniteRateWork() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BulkheadCli.run(new String[] {"bench", "--url", url() + "/v1", "--model", MODEL, "--rate", "inf",
                "--requests", "4", "--max-concurrency", "2", "--endpoint", "chat", "--prompt-median", "8",
                "--output-median", "4", "--max-prompt", "16", "--max-output", "8", "--max-model-len", "48"},
                new PrintWriter(out), new PrintWriter(err));
        assertThat(code).as("stdout: %s%nstderr: %s", out, err).isZero();
        assertThat(out.toString()).contains("completed 4 of 4, errors 0");
    }

    @Test
    void unreachableServerFailsEveryRequestAndExitsNonZero() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BulkheadCli.run(new String[] {"bench", "--url", "http://127.0.0.1:1", "--model", MODEL,
                "--rate", "inf", "--requests", "2", "--max-model-len", "64", "--max-prompt", "16", "--max-output", "8"},
                new PrintWriter(out), new PrintWriter(err));
        assertThat(code).isEqualTo(1);
        assertThat(out.toString()).contains("completed 0 of 2, errors 2").contains("first error");
    }

    @Test
    void badRateIsOneLineError() {
        StringWriter err = new StringWriter();
        int code = BulkheadCli.run(new String[] {"bench", "--model", MODEL, "--rate", "0"},
                new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertThat(code).isEqualTo(1);
        assertThat(err.toString()).contains("--rate must be > 0");
    }
}
