package dev.bulkhead.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What issue 18 asks of the image, read from the Dockerfile (CI has no Docker to build it): a jlinked runtime made
 * by the script CI runs, a non-root user, the server as entrypoint with the engine's flags, a HEALTHCHECK on
 * /health, a models volume, and the GPU variant's bases named. Every file it copies from the context exists.
 */
class DockerfileTest {

    private static final Path CONTAINER = Manifests.DEPLOY.resolve("container");

    private static List<String> instructions() throws IOException {
        // Join continuation lines, drop comments: one instruction a line.
        String text = Files.readString(CONTAINER.resolve("Dockerfile")).replaceAll("(?m)^\\s*#.*\\n", "")
                .replaceAll("\\\\\\n\\s*", " ");
        return text.lines().map(String::trim).filter(l -> !l.isEmpty()).toList();
    }

    @Test
    void buildsTheRuntimeWithTheScriptCiRunsAndRunsAsNonRoot() throws IOException {
        List<String> lines = instructions();
        assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("RUN").contains(
                "deploy/container/jlink-runtime.sh /opt/bulkhead/jre"));
        assertThat(lines).filteredOn(l -> l.startsWith("USER ")).last().asString().isEqualTo("USER 10001:10001");
        assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("HEALTHCHECK").contains("/health"));
        assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("VOLUME").contains("\"/models\""));
        assertThat(lines).anySatisfy(l -> assertThat(l).isEqualTo(
                "ENTRYPOINT [\"/opt/bulkhead/entrypoint.sh\"]"));
        assertThat(Files.readString(CONTAINER.resolve("Dockerfile")))
                .contains("nvidia/cuda:12.8.1-runtime-ubuntu24.04", "nvidia/cuda:12.8.1-devel-ubuntu24.04");
    }

    @Test
    void theEntrypointExecsTheJlinkedJavaWithTheEnginesFlags() throws IOException {
        Path entrypoint = CONTAINER.resolve("entrypoint.sh");
        assertThat(Files.isExecutable(entrypoint)).isTrue();
        assertThat(Files.readString(entrypoint)).contains("exec /opt/bulkhead/jre/bin/java",
                "--add-modules jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-jar /opt/bulkhead/bulkhead.jar \"$@\"");
    }

    @Test
    void everyFileCopiedFromTheContextExists() throws IOException {
        for (String line : instructions()) {
            if (line.startsWith("COPY ") && !line.contains("--from=")) {
                String[] words = line.split("\\s+");
                String source = words[words.length - 2];
                if (!source.equals(".")) {
                    assertThat(Manifests.DEPLOY.resolveSibling(source)).as(line).exists();
                }
            }
        }
    }
}
