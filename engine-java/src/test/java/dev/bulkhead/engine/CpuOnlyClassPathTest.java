package dev.bulkhead.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.internal.cuda.Backends;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The CUDA artifacts are optional dependencies of the engine: without them on the class path the CPU backend loads
 * and generates, {@code auto} picks the CPU, and asking for CUDA names the missing artifact.
 */
class CpuOnlyClassPathTest {

    /** Runs in a JVM whose class path lacks bulkhead-native, bulkhead-cuda-kernels and bulkhead-cuda-emulator. */
    public static final class Main {
        public static void main(String[] args) {
            System.out.println("AUTO " + Backends.choose("auto").name());
            try {
                Backends.choose("cuda");
            } catch (IllegalStateException e) {
                System.out.println("CUDA " + e.getMessage());
            }
            try (LlmEngine e = LlmEngine.open(null, EngineOptions.defaults().withThreads(1).withKvCacheBytes(8L << 20))) {
                int n = e.generate(GenerateRequest.of("Once upon a time", SamplingParams.greedy(8))).join().tokenIds().length;
                System.out.println("GENERATED " + n);
            }
        }
    }

    @Test
    void theCpuBackendNeedsNoCudaArtifact() throws Exception {
        String cp = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> !e.contains("cuda-kernels") && !e.contains("cuda-emulator") && !e.contains("bulkhead-native")
                        && !e.replace('\\', '/').contains("/native/target/"))
                .collect(Collectors.joining(File.pathSeparator));
        assertThat(cp).doesNotContain("cuda");
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Dbulkhead.cache.dir=" + System.getProperty("bulkhead.cache.dir", "target/bulkhead-cache"), "-cp", cp,
                Main.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(out).contains("AUTO cpu")
                .contains("CUDA --device cuda needs dev.bulkhead:bulkhead-native on the class path")
                .contains("GENERATED 8").doesNotContain("NoClassDefFoundError");
    }
}
