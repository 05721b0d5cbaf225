package dev.bulkhead.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The README's first command, {@code ./bulkhead serve}, run the way the launcher runs it (the same jar and JVM
 * flags, on a free port), prints a curl line, and that curl line, run as printed, gets a completion.
 */
class ReadmeQuickstartTest {

    private static final Path JAR = Path.of("..", "server", "target", "bulkhead.jar");

    @Test
    void firstReadmeCommandServesTheEmbeddedModelAndItsCurlLineWorks() throws Exception {
        String first = Files.readString(Path.of("..", "README.md")).lines()
                .dropWhile(l -> !l.startsWith("```bash")).skip(1).findFirst().orElseThrow();
        String command = first.replaceFirst("\\s+#.*$", "").trim();
        assertThat(command).isEqualTo("./bulkhead serve");
        assumeThat(JAR).as("the CLI jar (built by the server module's package phase; run `verify`)").exists();
        assumeThat(Path.of("/usr/bin/curl")).as("curl").exists();

        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx768m", "-Dbulkhead.cache.dir=" + System.getProperty("bulkhead.cache.dir"),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-jar",
                JAR.toString(), "serve", "--port", "0", "--threads", "1"));
        Process server = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(),
                    StandardCharsets.UTF_8));
            String curl = CompletableFuture.supplyAsync(() -> {
                try {
                    for (String line; (line = out.readLine()) != null; ) {
                        if (line.startsWith("try: curl ")) {
                            return line.substring("try: ".length());
                        }
                    }
                    return null;
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).get(120, TimeUnit.SECONDS);
            assertThat(curl).as("the curl line serve prints").isNotNull();

            Process client = new ProcessBuilder("bash", "-c", curl + " --silent --show-error --max-time 60")
                    .redirectErrorStream(true).start();
            String answer = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(client.waitFor(90, TimeUnit.SECONDS)).isTrue();
            assertThat(client.exitValue()).as(answer).isZero();
            JsonNode body = new ObjectMapper().readTree(answer);
            assertThat(body.get("object").asText()).isEqualTo("text_completion");
            assertThat(body.at("/choices/0/text").asText()).isNotBlank();
            assertThat(body.at("/usage/completion_tokens").asInt()).isPositive();
        } finally {
            server.destroy();
            assertThat(server.waitFor(30, TimeUnit.SECONDS)).as("serve stops on SIGTERM").isTrue();
        }
    }
}
