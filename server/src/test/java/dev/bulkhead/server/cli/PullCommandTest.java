package dev.bulkhead.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.model.ModelLoader;
import dev.bulkhead.model.embedded.EmbeddedModel;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bulkhead pull} against a local stub hub serving the embedded stories260K as {@code org/tiny}. */
class PullCommandTest {

    private static final String COMMIT = "fedcba9876543210fedcba9876543210fedcba98";

    @TempDir
    Path tmp;

    private Path modelDir;
    private HttpServer hub;

    @BeforeEach
    void startHub() throws IOException {
        modelDir = EmbeddedModel.extract(tmp.resolve("embedded"));
        hub = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        hub.createContext("/", this::serve);
        hub.start();
    }

    @AfterEach
    void stopHub() {
        hub.stop(0);
    }

    private String url() {
        return "http://127.0.0.1:" + hub.getAddress().getPort();
    }

    // NOTE: just enough of the hub's API for a pull: revision info, the file tree, resolve.
    private void serve(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        try (ex; Stream<Path> listing = Files.list(modelDir)) {
            List<Path> files = listing.sorted().toList();
            if (path.startsWith("/api/models/org/tiny/revision/")) {
                List<String> siblings = new ArrayList<>();
                files.forEach(f -> siblings.add("{\"rfilename\":\"" + f.getFileName() + "\"}"));
                send(ex, 200, "{\"id\":\"org/tiny\",\"sha\":\"" + COMMIT + "\",\"siblings\":[" + String.join(",", siblings) + "]}");
            } else if (path.startsWith("/api/models/org/tiny/tree/")) {
                List<String> entries = new ArrayList<>();
                for (Path f : files) {
                    String e = "{\"type\":\"file\",\"path\":\"" + f.getFileName() + "\",\"size\":" + Files.size(f);
                    if (f.getFileName().toString().endsWith(".safetensors")) {
                        e += ",\"lfs\":{\"oid\":\"" + sha256(Files.readAllBytes(f)) + "\",\"size\":" + Files.size(f) + "}";
                    }
                    entries.add(e + "}");
                }
                send(ex, 200, "[" + String.join(",", entries) + "]");
            } else if (path.startsWith("/org/tiny/resolve/" + COMMIT + "/")) {
                Path f = modelDir.resolve(path.substring(path.lastIndexOf('/') + 1));
                byte[] b = Files.readAllBytes(f);
                ex.sendResponseHeaders(200, b.length);
                ex.getResponseBody().write(b);
            } else {
                send(ex, 404, "{\"error\":\"Repository not found\"}");
            }
        }
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private record Run(int code, String out, String err) {
    }

    private static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BulkheadCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void pullsALoadableModelAndPrintsItsDirectory() throws Exception {
        Path cache = tmp.resolve("cache");

        Run run = cli("pull", "org/tiny", "--endpoint", url(), "--cache", cache.toString());

        assertThat(run.code()).as(run.err()).isZero();
        Path pulled = Path.of(run.out().strip());
        assertThat(pulled).isEqualTo(cache.resolve("models--org--tiny/snapshots/" + COMMIT));
        assertThat(run.err()).contains("model.safetensors: downloading").contains("model.safetensors: done")
                .contains("pulled org/tiny");
        assertThat(pulled.resolve("SOURCE.txt")).doesNotExist(); // not in the default filter
        try (LoadedModel model = ModelLoader.load(pulled.toString())) {
            assertThat(model.config().vocabSize()).isEqualTo(512);
        }

        Run again = cli("pull", "org/tiny", "--endpoint", url(), "--cache", cache.toString());
        assertThat(again.err()).contains("model.safetensors: already downloaded");
    }

    @Test
    void includeGlobsChooseTheFiles() {
        Path cache = tmp.resolve("cache");

        Run run = cli("pull", "org/tiny", "--endpoint", url(), "--cache", cache.toString(), "--include", "*.txt",
                "--include", "LICENSE");

        assertThat(run.code()).as(run.err()).isZero();
        Path pulled = Path.of(run.out().strip());
        assertThat(pulled.resolve("SOURCE.txt")).exists();
        assertThat(pulled.resolve("LICENSE")).exists();
        assertThat(pulled.resolve("config.json")).doesNotExist();
    }

    @Test
    void missingRepoFailsWithOneClearLine() {
        Run run = cli("pull", "org/nope", "--endpoint", url(), "--cache", tmp.resolve("cache").toString());

        assertThat(run.code()).isEqualTo(1);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).contains("bulkhead: error: repository org/nope at revision main not found: HTTP 404");
    }

    @Test
    void progressBarRedrawsInPlaceOnATerminal() {
        StringWriter sw = new StringWriter();
        PullCommand.ProgressBar bar = new PullCommand.ProgressBar(new PrintWriter(sw), true, "downloading", 120);

        bar.update("model.safetensors", 0, 2_000_000);
        bar.update("model.safetensors", 2_000_000, 2_000_000);

        assertThat(sw.toString()).startsWith("\r  model.safetensors").contains("[------------------------------]   0%")
                .contains("[##############################] 100%").contains("2.0 MB / 2.0 MB").contains("MB/s")
                .endsWith(System.lineSeparator());
    }
}
