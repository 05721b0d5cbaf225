package dev.bulkhead.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.router.RoutedCompletion;
import dev.bulkhead.router.Router;
import dev.bulkhead.router.RouterConfig;
import dev.bulkhead.router.RouterConfigLoader;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code examples/router/router.yaml}, the example of {@code docs/router-config.md}, loads, starts and answers one
 * request per alias: in a {@link Router} built from the file (its models in this JVM) and under
 * {@code bulkhead serve --config} (each model in a worker process), so the example cannot rot.
 */
class RouterExampleTest {

    private static final Path EXAMPLE = Path.of("..", "examples", "router", "router.yaml");
    private static final Pattern SERVING = Pattern.compile("on (http://127\\.0\\.0\\.1:\\d+) ");

    @Test
    void exampleLoadsAndEveryAliasAnswersInProcess() {
        RouterConfig config = RouterConfigLoader.load(EXAMPLE);
        Set<String> aliases = config.routing().routes().keySet();
        assertThat(aliases).containsExactly("story", "draft");
        assertThat(config.modelNames()).containsExactlyInAnyOrder("tiny-a", "tiny-b");

        try (Router router = Router.builder().configFile(EXAMPLE).start()) {
            for (String alias : aliases) {
                RoutedCompletion c = router.submit(alias,
                        GenerateRequest.of("Once upon a time", SamplingParams.greedy(16))).join();
                assertThat(c.completion().text()).as(alias).isNotBlank();
                assertThat(c.servedBy()).as(alias).isIn("tiny-a", "tiny-b");
                assertThat(c.degraded()).as(alias).isFalse();
            }
        }
    }

    @Test
    void serveRunsTheExampleAsIsAndEveryAliasAnswers() throws Exception {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx384m",
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Dbulkhead.cache.dir=" + System.getProperty("bulkhead.cache.dir", "target/bulkhead-cache"),
                "-cp", System.getProperty("java.class.path"), "dev.bulkhead.server.cli.BulkheadCli", "serve",
                "--config", EXAMPLE.toString(), "--port", "0");
        Process server = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        StringBuffer output = new StringBuffer();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(),
                    StandardCharsets.UTF_8));
            String base = CompletableFuture.supplyAsync(() -> {
                try {
                    for (String line; (line = out.readLine()) != null; ) {
                        output.append(line).append('\n');
                        Matcher m = SERVING.matcher(line);
                        if (m.find()) {
                            Thread.ofPlatform().daemon().start(() -> drain(out));
                            return m.group(1);
                        }
                    }
                    return null;
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).get(180, TimeUnit.SECONDS);
            assertThat(base).as("serve's address line; output:\n%s", output).isNotNull();

            ObjectMapper json = new ObjectMapper();
            try (HttpClient http = HttpClient.newHttpClient()) {
                for (String alias : List.of("story", "draft")) {
                    String body = json.createObjectNode().put("model", alias).put("prompt", "Once upon a time")
                            .put("max_tokens", 16).put("temperature", 0).toString();
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                            .header("Content-Type", "application/json").timeout(Duration.ofSeconds(60))
                            .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertThat(r.statusCode()).as(alias + ": " + r.body()).isEqualTo(200);
                    JsonNode answer = json.readTree(r.body());
                    assertThat(answer.at("/choices/0/text").asText()).as(alias).isNotBlank();
                    assertThat(r.headers().firstValue("X-Bulkhead-Served-By")).as(alias).get()
                            .isIn("tiny-a", "tiny-b");
                }
            }
        } finally {
            server.destroy();
            assertThat(server.waitFor(30, TimeUnit.SECONDS)).as("serve stops on SIGTERM").isTrue();
        }
    }

    /** Reads the rest of serve's output so it never blocks on a full pipe; ends when the process does. */
    private static void drain(BufferedReader out) {
        try {
            while (out.readLine() != null) {
                // NOTE: the lines past the address are not needed.
            }
        } catch (java.io.IOException e) {
            // the stream closes when the process is stopped
        }
    }
}
