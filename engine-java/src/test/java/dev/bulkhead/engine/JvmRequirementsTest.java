package dev.bulkhead.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A JVM without one of the two flags gets one line naming the flag to add, before any model is loaded. */
class JvmRequirementsTest {

    /** Opens the embedded model in a child JVM and prints what {@link LlmEngine#open} threw. */
    public static final class OpenEmbedded {
        public static void main(String[] args) {
            try (LlmEngine e = LlmEngine.open(null,
                    EngineOptions.defaults().withThreads(1).withKvCacheBytes(16L << 20))) {
                System.out.println("OPENED " + e.maxModelLen());
            } catch (RuntimeException e) {
                System.out.println("FAILED " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
    }

    @Test
    void withoutTheVectorModuleTheErrorNamesTheFlag() throws Exception {
        String out = run("--enable-native-access=ALL-UNNAMED");
        assertThat(out).contains("FAILED IllegalStateException: ").contains("add --add-modules jdk.incubator.vector")
                .doesNotContain("NoClassDefFoundError");
    }

    @Test
    void withNativeAccessDeniedTheErrorNamesTheFlag() throws Exception {
        String out = run("--add-modules", "jdk.incubator.vector", "--illegal-native-access=deny");
        assertThat(out).contains("FAILED IllegalStateException: ").contains("denies native access")
                .contains("add --enable-native-access=ALL-UNNAMED").doesNotContain("rejected");
    }

    @Test
    void withBothFlagsItOpens() throws Exception {
        assertThat(run("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"))
                .contains("OPENED ");
    }

    private static String run(String... flags) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx256m");
        cmd.addAll(List.of(flags));
        String cache = System.getProperty("bulkhead.cache.dir");
        if (cache != null) {
            cmd.add("-Dbulkhead.cache.dir=" + cache);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), OpenEmbedded.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return out;
    }
}
