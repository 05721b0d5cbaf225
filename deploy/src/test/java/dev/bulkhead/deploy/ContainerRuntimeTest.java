package dev.bulkhead.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The container's runtime, built here as the Dockerfile builds it (deploy/container/jlink-runtime.sh, from the JDK
 * running this test), runs the server the way the image's entrypoint does, on the embedded model served under the
 * name pool "story" uses: the README's curl line gets a completion, the probe paths of the Deployments answer, and
 * every metric the endpoint pickers and HPAs read is in /metrics by name.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ContainerRuntimeTest {

    private static final Path JAR = Manifests.DEPLOY.resolveSibling("server").resolve("target/bulkhead.jar");
    private static final Path RUNTIME = Path.of("target", "jlink-runtime").toAbsolutePath();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private Process server;
    private String curlLine;
    private String base;

    @BeforeAll
    void linkTheRuntimeAndStartTheServer() throws Exception {
        assumeThat(JAR).as("the CLI jar (built by the server module's package phase; run `verify`)").exists();
        deleteRecursively(RUNTIME);
        ProcessBuilder link = new ProcessBuilder("bash", Manifests.DEPLOY.resolve("container/jlink-runtime.sh")
                .toString(), RUNTIME.toString()).redirectErrorStream(true);
        link.environment().put("JAVA_HOME", System.getProperty("java.home"));   // link from the JDK running this
        Process jlink = link.start();
        String jlinkOut = new String(jlink.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(jlink.waitFor(180, TimeUnit.SECONDS)).isTrue();
        assertThat(jlink.exitValue()).as(jlinkOut).isZero();

        // The image's command line: the runtime's bin/java, the flags entrypoint.sh passes, and the jar.
        List<String> cmd = new ArrayList<>(List.of(RUNTIME.resolve("bin/java").toString(), "-Xmx384m",
                "-XX:+UseParallelGC", "-Dbulkhead.cache.dir=" + System.getProperty("bulkhead.cache.dir")));
        cmd.addAll(entrypointFlags());
        cmd.addAll(List.of("-jar", JAR.toString(), "serve", "--port", "0", "--threads", "1", "--kv-cache-mb", "16",
                "--served-model-name", "story"));
        server = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> printed = new CompletableFuture<>();
        // NOTE: reads to the end, so the server never blocks on a full stdout pipe after its curl line.
        Thread.ofVirtual().start(() -> {
            try {
                for (String line; (line = out.readLine()) != null; ) {
                    if (line.startsWith("try: curl ")) {
                        printed.complete(line.substring("try: ".length()));
                    }
                }
                printed.complete(null);
            } catch (IOException e) {
                printed.completeExceptionally(e);
            }
        });
        curlLine = printed.get(120, TimeUnit.SECONDS);
        assertThat(curlLine).as("the curl line serve prints").isNotNull();
        base = curlLine.replaceFirst("^curl (http://[^/]+)/.*$", "$1");
    }

    @AfterAll
    void stop() throws InterruptedException {
        if (server != null) {
            server.destroy();
            assertThat(server.waitFor(30, TimeUnit.SECONDS)).as("serve stops on SIGTERM").isTrue();
        }
    }

    @Test
    void theRuntimeHoldsTheListedModulesAndNotTheWholeJdk() throws Exception {
        Process p = new ProcessBuilder(RUNTIME.resolve("bin/java").toString(), "--list-modules")
                .redirectErrorStream(true).start();
        String modules = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(modules).contains("jdk.incubator.vector@", "jdk.zipfs@", "java.net.http@")
                .doesNotContain("jdk.compiler@", "jdk.jlink@", "jdk.jdi@", "jdk.jshell@");
    }

    @Test
    void theReadmeCurlLineGetsACompletion() throws Exception {
        Process client = new ProcessBuilder("bash", "-c", curlLine + " --silent --show-error --max-time 60")
                .redirectErrorStream(true).start();
        String answer = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(client.waitFor(90, TimeUnit.SECONDS)).isTrue();
        assertThat(client.exitValue()).as(answer).isZero();
        JsonNode body = new ObjectMapper().readTree(answer);
        assertThat(body.get("object").asText()).isEqualTo("text_completion");
        assertThat(body.at("/choices/0/text").asText()).isNotBlank();
        assertThat(body.at("/usage/completion_tokens").asInt()).isPositive();
    }

    @Test
    void theProbePathsOfTheDeploymentsAnswer() throws Exception {
        for (Manifests.Document doc : Manifests.all()) {
            boolean modelServer = doc.kind().equals("Deployment") && !doc.name().endsWith("-epp");
            if (!modelServer) {
                continue;
            }
            JsonNode container = doc.node().at("/spec/template/spec/containers/0");
            for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
                String path = container.path(probe).path("httpGet").path("path").asText();
                assertThat(path).as(doc + " " + probe).isIn("/health", "/ready");
                assertThat(get(path).statusCode()).as(doc + " " + probe + " " + path).isEqualTo(200);
            }
        }
    }

    @Test
    void everyMetricTheManifestsReadIsExported() throws Exception {
        HttpResponse<String> metrics = get("/metrics");
        assertThat(metrics.statusCode()).isEqualTo(200);
        List<MetricRefs.Ref> refs = MetricRefs.inManifests();
        assertThat(refs).extracting(MetricRefs.Ref::name).contains("vllm:num_requests_waiting",
                "vllm:num_requests_running", "vllm:kv_cache_usage_perc");
        // This server serves pool "story"'s model, so that pool's label selectors must match its series.
        assertThat(MetricRefs.missing(refs, metrics.body(), "story/")).isEmpty();
    }

    /** The JVM flags deploy/container/entrypoint.sh passes between $BULKHEAD_JAVA_OPTS and -jar. */
    static List<String> entrypointFlags() throws IOException {
        String script = Files.readString(Manifests.DEPLOY.resolve("container/entrypoint.sh"))
                .replaceAll("\\\\\n\\s*", " ");
        String exec = script.lines().filter(l -> l.startsWith("exec ")).findFirst().orElseThrow();
        String flags = exec.substring(exec.indexOf("$BULKHEAD_JAVA_OPTS") + "$BULKHEAD_JAVA_OPTS".length(),
                exec.indexOf(" -jar "));
        List<String> list = List.of(flags.trim().split("\\s+"));
        assertThat(list).as("entrypoint.sh's flags").contains("jdk.incubator.vector");
        return list;
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }
}
