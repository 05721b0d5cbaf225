package dev.bulkhead.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.model.hub.HubCache;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelsCommandTest {

    @TempDir
    Path tmp;

    @Test
    void listsPulledModelsAndTheEmbeddedDefault() throws Exception {
        HubCache cache = new HubCache(tmp);
        Path snapshot = cache.snapshotDir("org/tiny", "abc123");
        Files.createDirectories(snapshot);
        Files.write(snapshot.resolve("model.safetensors"), new byte[1_499_990]);
        Files.writeString(snapshot.resolve("config.json"), "{}");
        Files.writeString(snapshot.resolve("tokenizer.json"), "{}");
        cache.writeRef("org/tiny", "main", "abc123");
        // NOTE: a pull with --include config.json completes (its ref is written) but leaves no model.
        Path partial = cache.snapshotDir("org/partial", "fff000");
        Files.createDirectories(partial);
        Files.writeString(partial.resolve("config.json"), "{}");
        cache.writeRef("org/partial", "main", "fff000");
        Files.createDirectories(cache.snapshotDir("org/unfinished", "def456"));

        StringWriter out = new StringWriter();
        int code = BulkheadCli.run(new String[] {"models", "--cache", tmp.toString()}, new PrintWriter(out, true),
                new PrintWriter(new StringWriter(), true));

        assertThat(code).isZero();
        String[] lines = out.toString().split("\\R");
        assertThat(lines).hasSize(4);
        assertThat(lines[0]).startsWith("REPO").contains("REVISION").contains("SIZE").contains("PATH");
        assertThat(lines[1]).startsWith("stories260K").contains("embedded").contains("a story model");
        assertThat(lines[2]).startsWith("org/partial").endsWith(partial + "  (incomplete: no tokenizer.json, "
                + "weights (*.safetensors))");
        assertThat(lines[3]).startsWith("org/tiny").contains("main").contains("1.5 MB").endsWith(snapshot.toString());
    }

    @Test
    void humanBytesUsesDecimalUnits() {
        assertThat(ModelsCommand.humanBytes(999)).isEqualTo("999 B");
        assertThat(ModelsCommand.humanBytes(1_500_000)).isEqualTo("1.5 MB");
        assertThat(ModelsCommand.humanBytes(16_060_000_000L)).isEqualTo("16.1 GB");
    }
}
