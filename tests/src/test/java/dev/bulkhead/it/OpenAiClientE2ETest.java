package dev.bulkhead.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.model.ModelLoader;
import dev.bulkhead.server.http.ApiKeys;
import dev.bulkhead.server.http.BulkheadServer;
import dev.bulkhead.server.http.EngineBackend;
import dev.bulkhead.server.http.ServerConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The official {@code openai} npm client against an in-process server over the embedded stories260K: chat and
 * completions, streamed and not, stop strings, usage, an unknown model ({@code NotFoundError}) and a wrong API key
 * ({@code AuthenticationError}), once with API keys and once without (where the server checks {@code Host} and
 * {@code Origin} against web pages). The checks live in
 * {@code tests/e2e-openai/e2e.mjs}; this test starts the server, runs the script and wants exit code 0. It is
 * skipped when {@code node} or the installed package is missing: run {@code npm ci --prefix tests/e2e-openai}
 * first, as {@code .ci/run} does (the test itself downloads nothing).
 */
class OpenAiClientE2ETest {

    private static final String MODEL = "stories260K";
    private static final String KEY = "sk-e2e-5d0c1f9a7b3e4c21";

    private static Path scriptDir() {
        // NOTE: surefire runs in the tests module; the script sits beside it, in tests/e2e-openai.
        Path here = Path.of("").toAbsolutePath();
        for (Path p : new Path[] {here.resolve("e2e-openai"), here.resolve("../tests/e2e-openai"),
                                  here.resolve("tests/e2e-openai")}) {
            if (Files.isRegularFile(p.resolve("e2e.mjs"))) {
                return p.normalize();
            }
        }
        return here.resolve("e2e-openai").normalize();
    }

    private static String nodeVersion() {
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : null;
        } catch (Exception e) {
            return null;
        }
    }

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void officialOpenAiNodeClientWorksAgainstTheServer() throws Exception {
        Path dir = scriptDir();
        String node = nodeVersion();
        Assumptions.assumeTrue(node != null, "node is not on the PATH");
        Assumptions.assumeTrue(Files.isDirectory(dir.resolve("node_modules/openai")),
                "no " + dir.resolve("node_modules/openai") + ": run `npm ci --prefix tests/e2e-openai` first, "
                        + "as .ci/run does");

        run(dir, node, ServerConfig.local(0).withApiKeys(ApiKeys.fromEnv(KEY)), KEY);
        // NOTE: without keys the server checks Host and Origin against web pages; the SDK sends no Origin and a
        // loopback Host, so it must work all the same.
        run(dir, node, ServerConfig.local(0), null);
    }

    private static void run(Path dir, String node, ServerConfig config, String key) throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        EngineOptions options = EngineOptions.defaults().withThreads(2).withKvCacheBytes(4L << 20)
                .withMaxModelLen(256);
        LlmEngine engine = new LlmEngine(MODEL, ModelLoader.load(null), options, registry, ModelRunnerFactory.CPU);
        try (BulkheadServer server = BulkheadServer.start(config, new EngineBackend(MODEL, engine), registry)) {
            ProcessBuilder pb = new ProcessBuilder("node", "e2e.mjs").directory(dir.toFile())
                    .redirectErrorStream(true);
            Map<String, String> env = pb.environment();
            env.put("BASE_URL", "http://127.0.0.1:" + server.port() + "/v1");
            env.remove("API_KEY");
            env.remove("BAD_KEY_EXPECTED");
            if (key != null) {
                env.put("API_KEY", key);
                env.put("BAD_KEY_EXPECTED", "1");
            }
            env.put("MODEL", MODEL);
            env.remove("OPENAI_BASE_URL");
            File log = Files.createTempFile("openai-e2e", ".log").toFile();
            pb.redirectOutput(log);
            Process p = pb.start();
            boolean done = p.waitFor(150, TimeUnit.SECONDS);
            if (!done) {
                p.destroyForcibly();
            }
            String out = Files.readString(log.toPath());
            System.out.println("node " + node + ", tests/e2e-openai/e2e.mjs" + (key == null ? " (no API keys)" : "")
                    + ":\n" + out);
            Files.deleteIfExists(log.toPath());
            assertThat(done).as("e2e.mjs did not finish in 150 s:\n" + out).isTrue();
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(out).contains("checks passed").doesNotContain("FAIL");
        }
    }
}
