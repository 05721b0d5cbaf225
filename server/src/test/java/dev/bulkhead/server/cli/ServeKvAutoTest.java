package dev.bulkhead.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code bulkhead serve} without {@code --kv-cache-mb}: the pool is auto-sized, and the start line says so. */
class ServeKvAutoTest {

    @TempDir
    Path tmp;

    @Test
    @Timeout(120)
    void serveSizesTheKvPoolForEveryRequestAtTheFullContextAndSaysSo() throws Exception {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Dbulkhead.cache.dir=" + System.getProperty("bulkhead.cache.dir", tmp.resolve("cache").toString()),
                "-cp", System.getProperty("java.class.path"), "dev.bulkhead.server.cli.BulkheadCli", "serve",
                "--port", "0", "--threads", "1", "--verbose");
        Process server = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(),
                    StandardCharsets.UTF_8));
            StringBuilder seen = new StringBuilder();
            boolean serving = CompletableFuture.supplyAsync(() -> {
                try {
                    for (String l; (l = lines.readLine()) != null; ) {
                        seen.append(l).append('\n');
                        if (l.startsWith("Bulkhead is serving")) {
                            return true;
                        }
                    }
                    return false;
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).get(100, TimeUnit.SECONDS);
            assertThat(serving).as(seen.toString()).isTrue();
            // The embedded model: --context 2048 capped at its 512 positions, --max-running 64, 16-token blocks.
            assertThat(seen.toString()).as(seen.toString())
                    .contains("2049 KV blocks of 16 tokens (32768 tokens; 40.0 MiB auto-sized to the demand of 64 "
                            + "sequences of 512 tokens), context 512");
        } finally {
            server.destroy();
            server.waitFor(30, TimeUnit.SECONDS);
            server.destroyForcibly();
        }
    }
}
