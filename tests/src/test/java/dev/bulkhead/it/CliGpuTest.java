package dev.bulkhead.it;

import static dev.bulkhead.it.CliTest.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.cuemu.EmulatorSeedReporter;
import dev.bulkhead.cuemu.GpuTarget;
import dev.bulkhead.it.CliTest.Run;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI with {@code --device cuda-emulator}, as a user without a GPU runs it: {@code generate} prints the same
 * greedy story as the CPU backend on the embedded stories260K (the same token ids), and {@code serve} says it
 * runs on the emulator and answers a completion with the CPU's text.
 */
@Tag("gpu")
@ExtendWith(EmulatorSeedReporter.class)
class CliGpuTest {

    private static final Path JAR = Path.of("..", "server", "target", "bulkhead.jar");
    private static final String PROMPT = "Once upon a time";
    private static long started;

    @TempDir
    Path tmp;

    @BeforeAll
    static void emulator() {
        GpuTarget.requireEmulator(); // --device cuda-emulator binds this process's CUDA to the emulator
        started = System.nanoTime();
    }

    @AfterAll
    static void took() {
        System.out.printf("[cuda-emulator] CliGpuTest took %.1f s%n", (System.nanoTime() - started) / 1e9);
    }

    private static JsonNode json(Run r) throws Exception {
        assertThat(r.code()).as(r.err()).isZero();
        return new ObjectMapper().readTree(r.out());
    }

    @Test
    void generateOnTheEmulatorPrintsTheCpuStory() throws Exception {
        // The whole default length (256 tokens), greedy.
        JsonNode emulated = json(run("generate", "--device", "cuda-emulator", "--prompt", PROMPT, "--temperature", "0",
                "--json"));
        JsonNode cpu = json(run("generate", "--device", "cpu", "--prompt", PROMPT, "--temperature", "0", "--json",
                "--threads", "1"));
        assertThat(emulated.get("prompt_token_ids")).isEqualTo(cpu.get("prompt_token_ids"));
        assertThat(emulated.get("token_ids")).hasSize(256);
        assertThat(ids(emulated)).as("greedy ids, emulated CUDA vs CPU").containsExactly(ids(cpu));
        assertThat(emulated.get("text").asText()).isEqualTo(cpu.get("text").asText());
        // And the command exactly as a user types it prints that story (shorter: the emulator is slow).
        Run printed = run("generate", "--device", "cuda-emulator", "--prompt", PROMPT, "--temperature", "0", "-n", "32");
        assertThat(printed.code()).as(printed.err()).isZero();
        Run cpuPrinted = run("generate", "--device", "cpu", "--prompt", PROMPT, "--temperature", "0", "-n", "32",
                "--threads", "1");
        assertThat(printed.out()).startsWith(PROMPT + cpu.get("text").asText().substring(0, 20))
                .isEqualTo(cpuPrinted.out());
    }

    private static int[] ids(JsonNode completion) {
        JsonNode ids = completion.get("token_ids");
        int[] out = new int[ids.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ids.get(i).asInt();
        }
        return out;
    }

    @Test
    void serveOnTheEmulatorSaysSoAndAnswersACompletionWithTheCpuText() throws Exception {
        assumeThat(JAR).as("the CLI jar (built by the server module's package phase; run `verify`)").exists();
        JsonNode cpu = json(run("generate", "--device", "cpu", "--prompt", PROMPT, "--temperature", "0", "-n", "48",
                "--json", "--threads", "1"));
        Path log = tmp.resolve("serve.err");
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx768m",
                "-Dbulkhead.cache.dir=" + System.getProperty("bulkhead.cache.dir"), "--add-modules",
                "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-jar", JAR.toString(), "serve",
                "--device", "cuda-emulator", "--port", "0", "--threads", "1");
        Process server = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            String serving = CompletableFuture.supplyAsync(() -> {
                try {
                    for (String line; (line = out.readLine()) != null; ) {
                        if (line.startsWith("Bulkhead is serving ")) {
                            return line;
                        }
                    }
                    return null;
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).get(120, TimeUnit.SECONDS);
            assertThat(serving).as("serve's first line; its log: %s", readQuietly(log)).isNotNull();
            Matcher m = Pattern.compile("serving (\\S+) on (http://\\S+) ").matcher(serving);
            assertThat(m.find()).as(serving).isTrue();
            assertThat(readQuietly(log)).as("serve's log says CUDA runs on the emulator")
                    .contains("CUDA runs on the Bulkhead CUDA emulator").contains("not a GPU");

            String body = """
                    {"model": "%s", "prompt": "%s", "max_tokens": 48, "temperature": 0}""".formatted(m.group(1), PROMPT);
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(m.group(2) + "/v1/completions")).timeout(Duration.ofSeconds(60))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            JsonNode answer = new ObjectMapper().readTree(response.body());
            assertThat(answer.at("/usage/completion_tokens").asInt()).isEqualTo(48);
            assertThat(answer.at("/choices/0/text").asText()).as("the emulated CUDA answer is the CPU's greedy text")
                    .isEqualTo(cpu.get("text").asText());
        } finally {
            server.destroy();
            assertThat(server.waitFor(30, TimeUnit.SECONDS)).as("serve stops on SIGTERM").isTrue();
        }
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}
