package dev.bulkhead.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's Java example is this module's {@link Example}, byte for byte, and it runs. */
class ReadmeExampleTest {

    @Test
    void readmeExampleIsCompiledAndRuns() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        int start = readme.indexOf("```java\n") + "```java\n".length();
        String block = readme.substring(start, readme.indexOf("```\n", start));
        String source = Files.readString(Path.of("src/test/java/dev/bulkhead/it/Example.java"));
        assertThat("package dev.bulkhead.it;\n\n" + block).isEqualTo(source);

        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            Example.main(new String[0]);
        } finally {
            System.setOut(original);
        }
        String out = captured.toString(StandardCharsets.UTF_8);
        assertThat(out).contains("prompt: prompt is empty");
        assertThat(out).containsAnyOf("STOP", "LENGTH", "ABORT");
    }
}
