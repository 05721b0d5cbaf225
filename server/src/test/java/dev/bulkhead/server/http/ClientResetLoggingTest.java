package dev.bulkhead.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that reset their connection (RST, as a killed process or a proxy's timeout does) at every stage of a
 * request: mid-body, while a non-streamed answer is computed, mid-stream, after a quick GET, mid-request-line. The
 * server is {@code bulkhead serve --verbose} in a child JVM, so its log is exactly what an operator sees, debug lines
 * included: none of it may be an ERROR or WARN, no stack trace may be printed, and each reset the request layer sees
 * is one DEBUG line. The server keeps answering.
 */
class ClientResetLoggingTest {

    private static final Pattern SERVING = Pattern.compile("on http://127\\.0\\.0\\.1:(\\d+)");

    @TempDir
    Path tmp;

    private static void reset(Socket s) throws Exception {
        s.setSoLinger(true, 0);
        s.close();
    }

    private static Socket post(int port, String body, int sendBytes) throws Exception {
        Socket s = new Socket("127.0.0.1", port);
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        OutputStream out = s.getOutputStream();
        out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + b.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(b, 0, Math.min(sendBytes, b.length));
        out.flush();
        return s;
    }

    @Test
    @Timeout(120)
    void resetsAreOneDebugLineEachAndNeverErrorsOrStackTraces() throws Exception {
        Path log = tmp.resolve("serve.log");
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Dbulkhead.cache.dir=" + System.getProperty("bulkhead.cache.dir", tmp.resolve("cache").toString()),
                "-cp", System.getProperty("java.class.path"), "dev.bulkhead.server.cli.BulkheadCli", "serve",
                "--port", "0", "--threads", "1", "--kv-cache-mb", "16", "--verbose");
        Process server = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(),
                    StandardCharsets.UTF_8));
            StringBuilder seen = new StringBuilder();
            int port = CompletableFuture.supplyAsync(() -> {
                try {
                    for (String l; (l = lines.readLine()) != null; ) {
                        seen.append(l).append('\n');
                        Matcher m = SERVING.matcher(l);
                        if (l.startsWith("Bulkhead is serving") && m.find()) {
                            return Integer.parseInt(m.group(1));
                        }
                    }
                    return -1;
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).get(90, TimeUnit.SECONDS);
            assertThat(port).as(seen.toString()).isPositive();
            CompletableFuture<Void> drain = CompletableFuture.runAsync(() -> {
                try {
                    for (String l; (l = lines.readLine()) != null; ) {
                        seen.append(l).append('\n');
                    }
                } catch (java.io.IOException ignored) {
                    // the server stopped
                }
            });

            String longAnswer = "{\"model\":\"stories260K\",\"prompt\":\"Once upon a time\",\"max_tokens\":400,"
                    + "\"ignore_eos\":true";
            reset(post(port, longAnswer + "}", 12));                                   // mid-body
            Thread.sleep(300);
            reset(post(port, longAnswer + ",\"stream\":true}", Integer.MAX_VALUE));    // mid-stream
            Thread.sleep(300);
            Socket computing = post(port, longAnswer + "}", Integer.MAX_VALUE);         // while computing
            Thread.sleep(30);
            reset(computing);
            Thread.sleep(300);
            Socket get = new Socket("127.0.0.1", port);                                 // right after a GET
            get.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            reset(get);
            Socket half = new Socket("127.0.0.1", port);                                // mid-request-line
            half.getOutputStream().write("GET /hea".getBytes(StandardCharsets.US_ASCII));
            reset(half);
            Thread.sleep(1_500);

            HttpResponse<String> ok = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/health")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ok.statusCode()).isEqualTo(200);
            server.destroy();
            assertThat(server.waitFor(30, TimeUnit.SECONDS)).isTrue();
            drain.get(10, TimeUnit.SECONDS);

            String out = seen.toString();
            Files.writeString(log, out);
            // NOTE: the JVM's own notice about the Vector API module is not a log line.
            List<String> loud = out.lines().filter(l -> !l.startsWith("WARNING: Using incubator modules"))
                    .filter(l -> l.startsWith("ERROR") || l.startsWith("WARN") || l.contains("SEVERE")).toList();
            assertThat(loud).as("ERROR and WARN lines after client resets:\n" + out).isEmpty();
            assertThat(out.lines().filter(l -> l.startsWith("\tat ") || l.startsWith("Caused by:")).toList())
                    .as("stack trace lines:\n" + out).isEmpty();
            List<String> gone = out.lines().filter(l -> l.startsWith("DEBUG") && l.contains("client")
                    && (l.contains("went away") || l.contains("closed the connection before"))).toList();
            System.out.println("ClientResetLoggingTest: the resets logged as " + gone.size() + " DEBUG lines:\n"
                    + String.join("\n", gone));
            // NOTE: the mid-body and mid-stream resets always reach a request; the others may hit the connection
            // before its request is read, or after its answer is out, depending on timing.
            assertThat(gone).as("one DEBUG line for each reset the request layer saw:\n" + out).hasSizeBetween(2, 5);
        } finally {
            server.destroyForcibly();
        }
    }
}
