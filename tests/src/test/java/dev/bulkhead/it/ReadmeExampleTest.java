package dev.bulkhead.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The README's Java example is {@code examples/library-quickstart}'s {@code Example.java}, byte for byte. That
 * project is built and its test runs the example in this module's {@code verify} (maven-invoker-plugin), against
 * the installed artifacts, as an outside Maven user builds it.
 */
class ReadmeExampleTest {

    @Test
    void readmeExampleIsTheQuickstartProjectsSource() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        int start = readme.indexOf("```java\n") + "```java\n".length();
        String block = readme.substring(start, readme.indexOf("```\n", start));
        String source = Files.readString(Path.of("..", "examples", "library-quickstart", "src", "main", "java",
                "Example.java"));
        assertThat(block).isEqualTo(source);
    }
}
