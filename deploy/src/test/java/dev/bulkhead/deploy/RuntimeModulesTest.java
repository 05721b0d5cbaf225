package dev.bulkhead.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * deploy/container/runtime-modules.txt keeps up with the server jar: every module jdeps finds it using is listed,
 * or excluded there with a reason. A new dependency that needs another JDK module fails here rather than in the
 * container with a NoClassDefFoundError.
 */
class RuntimeModulesTest {

    private static final Path LIST = Manifests.DEPLOY.resolve("container/runtime-modules.txt");
    private static final Path JAR = Manifests.DEPLOY.resolveSibling("server").resolve("target/bulkhead.jar");

    @Test
    void everyModuleJdepsFindsIsListedOrExcludedWithAReason() throws Exception {
        assumeThat(JAR).as("the CLI jar (built by the server module's package phase; run `verify`)").exists();
        String text = Files.readString(LIST);
        Set<String> listed = new HashSet<>(text.lines().map(l -> l.replaceFirst("#.*", "").trim())
                .filter(l -> !l.isEmpty()).toList());
        Set<String> excluded = new HashSet<>();
        // Lines such as "#   jdk.jdi, jdk.attach: only javassist..." under "Excluded".
        Matcher m = Pattern.compile("(?m)^#\\s+((?:[a-z][a-z0-9.]*,\\s*)*[a-z][a-z0-9.]*):").matcher(
                text.substring(text.indexOf("# Excluded")));
        while (m.find()) {
            excluded.addAll(Arrays.asList(m.group(1).split(",\\s*")));
        }
        assertThat(listed).contains("java.base", "jdk.incubator.vector");
        assertThat(excluded).isNotEmpty().doesNotContainAnyElementsOf(listed);

        Path jdeps = Path.of(System.getProperty("java.home"), "bin", "jdeps");
        Process p = new ProcessBuilder(jdeps.toString(), "--ignore-missing-deps", "--multi-release", "25",
                "--print-module-deps", JAR.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        List<String> found = Arrays.asList(out.lines().reduce((a, b) -> b).orElseThrow().split(","));
        assertThat(found).as("jdeps output: " + out).contains("java.base");
        for (String module : found) {
            assertThat(listed.contains(module) || excluded.contains(module))
                    .as("%s (jdeps finds the server jar using it) is in runtime-modules.txt, listed or excluded",
                            module).isTrue();
        }
    }
}
