package dev.bulkhead.server.http;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bulkhead serve} (the embedded model) in a child JVM started through {@code bash} with a low open-file
 * limit ({@code ulimit -n}), on this test's class path, with its output kept for assertions.
 */
final class ChildServer implements AutoCloseable {

    private static final Pattern SERVING = Pattern.compile("on http://127\\.0\\.0\\.1:(\\d+) ");

    private final Process process;
    private final StringBuffer output = new StringBuffer();
    private final int port;

    ChildServer(int fdLimit, String... serveArgs) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of("bash", "-c", "ulimit -n " + fdLimit + " && exec \"$0\" \"$@\"",
                java, "-Xmx512m", "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Dorg.slf4j.simpleLogger.log.dev.bulkhead.server.http.HttpListener=info",
                "-cp", System.getProperty("java.class.path"),
                "dev.bulkhead.server.cli.BulkheadCli", "serve", "--port", "0", "--threads", "1",
                "--kv-cache-mb", "16"));
        cmd.addAll(List.of(serveArgs));
        process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Thread.ofPlatform().daemon().start(() -> pump(process.getInputStream()));
        long until = System.nanoTime() + 60_000_000_000L;
        Matcher m = SERVING.matcher("");
        while (!m.reset(output).find()) {
            if (!process.isAlive() || System.nanoTime() > until) {
                process.destroyForcibly();
                throw new IllegalStateException("child server did not start:\n" + output);
            }
            Thread.sleep(20);
        }
        port = Integer.parseInt(m.group(1));
    }

    int port() {
        return port;
    }

    boolean alive() {
        return process.isAlive();
    }

    /** Everything the child printed so far (stdout and stderr). */
    String output() {
        return output.toString();
    }

    /** How many times {@code text} occurs in the output so far. */
    int count(String text) {
        String all = output();
        int n = 0;
        for (int i = all.indexOf(text); i >= 0; i = all.indexOf(text, i + 1)) {
            n++;
        }
        return n;
    }

    /** Waits up to {@code millis} for {@code text} in the output. */
    boolean awaitOutput(String text, long millis) throws InterruptedException {
        long until = System.nanoTime() + millis * 1_000_000;
        while (!output().contains(text) && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        return output().contains(text);
    }

    /** GET {@code path} on a new connection; the status, or -1 when the request failed. */
    int get(String path, Duration timeout) {
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(timeout).build()) {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(timeout)
                    .GET().build(), HttpResponse.BodyHandlers.ofString()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    String body(String path) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET().build(),
                    HttpResponse.BodyHandlers.ofString()).body();
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
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
