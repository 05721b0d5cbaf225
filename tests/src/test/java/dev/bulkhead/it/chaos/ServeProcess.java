package dev.bulkhead.it.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bulkhead serve --config FILE} in a child JVM on this test's class path, as the launcher runs it (its workers
 * then run the same class path's {@code bulkhead worker}), with its output kept and its {@code /ready} read.
 */
final class ServeProcess implements AutoCloseable {

    private static final Pattern SERVING = Pattern.compile("on http://127\\.0\\.0\\.1:(\\d+) ");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final StringBuffer output = new StringBuffer();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final int port;
    private final Path log;

    /** One model's line of {@code /ready}. */
    record ModelState(String status, boolean ready, long workerPid, long rssBytes, int kvBlocksInUse, String reason) {
    }

    ServeProcess(Path config, Path dir, String name, String... extra) throws Exception {
        Files.createDirectories(dir);
        this.log = dir.resolve(name + ".log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx384m", "-XX:+UseParallelGC",
                "-XX:-CreateCoredumpOnCrash", "-XX:ErrorFile=" + dir.resolve("hs_err_serve_%p.log"),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-Dbulkhead.cache.dir=" + System.getProperty("bulkhead.cache.dir", "target/bulkhead-cache"),
                "-cp", System.getProperty("java.class.path"), "dev.bulkhead.server.cli.BulkheadCli", "serve",
                "--config", config.toString(), "--port", "0"));
        cmd.addAll(List.of(extra));
        process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Thread.ofPlatform().daemon().start(() -> pump(process.getInputStream()));
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        Matcher m = SERVING.matcher("");
        while (!m.reset(output).find()) {
            if (!process.isAlive() || System.nanoTime() > until) {
                process.destroyForcibly();
                throw new IllegalStateException("serve did not start:\n" + output);
            }
            Thread.sleep(20);
        }
        port = Integer.parseInt(m.group(1));
    }

    int port() {
        return port;
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    String output() {
        return output.toString();
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    /** {@code /ready/MODEL}, or null when the server does not answer. */
    ModelState state(String model) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri("/ready/" + model))
                    .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString());
            JsonNode n = JSON.readTree(r.body());
            JsonNode w = n.path("worker");
            return new ModelState(n.path("status").asText(), n.path("ready").asBoolean(),
                    w.isMissingNode() ? -1 : w.path("pid").asLong(), w.isMissingNode() ? -1 : w.path("rss_bytes").asLong(),
                    n.path("kv_blocks_in_use").asInt(), n.path("reason").asText());
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    String get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    /** SIGKILL to the server itself. */
    void kill9() throws InterruptedException {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM, as Ctrl-C or a container stop: the server's shutdown closes the router. */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private void pump(InputStream in) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                output.append(line).append('\n');
            }
        } catch (IOException e) {
            output.append("(output lost: ").append(e).append(")\n");
        }
    }

    @Override
    public void close() throws IOException {
        try {
            if (process.isAlive()) {
                stop();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        Files.writeString(log, output);
        http.close();
    }
}
