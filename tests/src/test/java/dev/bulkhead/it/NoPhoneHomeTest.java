package dev.bulkhead.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bulkhead serve} opens no connection to anything but loopback and spawns no program while it starts and
 * answers a completion. It runs in a child JVM under {@code strace}, which sees every {@code connect}, {@code sendto}
 * and {@code sendmsg} at the system-call level, so the JDK's HTTP client, DJL's usage tracking (which asks the cloud
 * metadata address 169.254.169.254) and native code (the Rust tokenizers, JNA) are all covered, as is DJL's
 * {@code ldconfig -p} (an {@code execve}). Where user namespaces allow, the child runs in a network namespace with
 * only loopback, so a failing run cannot reach anything either. Skipped, with the reason, without strace.
 */
class NoPhoneHomeTest {

    private static final Pattern V4 = Pattern.compile("sa_family=AF_INET, sin_port=htons\\((\\d+)\\), "
            + "sin_addr=inet_addr\\(\"([^\"]+)\"\\)");
    private static final Pattern V6 = Pattern.compile("sa_family=AF_INET6, sin6_port=htons\\((\\d+)\\).*?"
            + "inet_pton\\(AF_INET6, \"([^\"]+)\"");
    private static final String SCRIPT = """
            set -u
            LOG="$1"; OUT="$2"; ANSWER="$3"; shift 3
            if [ "${BULKHEAD_NETNS:-0}" = 1 ]; then ip link set lo up || exit 90; fi
            strace -f -qq -e trace=connect,sendto,sendmsg,execve -o "$LOG" "$@" > "$OUT" 2>&1 &
            TRACER=$!
            for i in $(seq 1 900); do
              grep -q 'Bulkhead is serving' "$OUT" && break
              kill -0 "$TRACER" 2>/dev/null || break
              sleep 0.1
            done
            URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$OUT" | head -1)
            if [ -n "$URL" ]; then
              curl -s -m 60 "$URL/v1/completions" -H 'Content-Type: application/json' \\
                -d '{"model":"stories260K","prompt":"Once upon a time","max_tokens":8}' > "$ANSWER"
              curl -s -m 10 -o /dev/null "$URL/health"
            fi
            # NOTE: the first line of strace's log names the traced JVM; stopping it ends strace too.
            kill -TERM "$(head -1 "$LOG" | cut -d' ' -f1)"
            wait "$TRACER"
            """;

    /** The same trace around a plain command that ends by itself (the engine used as a library). */
    private static final String LIBRARY_SCRIPT = """
            set -u
            LOG="$1"; OUT="$2"; shift 2
            if [ "${BULKHEAD_NETNS:-0}" = 1 ]; then ip link set lo up || exit 90; fi
            strace -f -qq -e trace=connect,sendto,sendmsg,execve -o "$LOG" "$@" > "$OUT" 2>&1
            """;

    /** The library's whole path in one JVM: open the embedded model, generate, close. */
    public static final class GenerateOnce {
        public static void main(String[] args) {
            try (dev.bulkhead.engine.LlmEngine e = dev.bulkhead.engine.LlmEngine.open(null,
                    dev.bulkhead.engine.EngineOptions.defaults().withThreads(1).withKvCacheBytes(16L << 20))) {
                var c = e.generate(dev.bulkhead.engine.api.GenerateRequest.of("Once upon a time",
                        dev.bulkhead.engine.api.SamplingParams.greedy(8))).join();
                System.out.println("GENERATED " + c.tokenIds().length + " tokens: " + c.text());
            }
        }
    }

    @TempDir
    Path tmp;

    private static boolean works(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    @Timeout(180)
    void serveConnectsToNothingButLoopbackAndSpawnsNothing() throws Exception {
        assumeThat(works("strace", "-qq", "-e", "trace=none", "true")).as("strace can trace here").isTrue();
        assumeThat(Path.of("/usr/bin/curl")).as("curl").exists();
        boolean netns = works("unshare", "-rn", "sh", "-c", "ip link set lo up");
        Path script = tmp.resolve("serve-traced.sh");
        Files.writeString(script, SCRIPT);
        Path log = tmp.resolve("strace.log");
        Path out = tmp.resolve("serve.out");
        Path answer = tmp.resolve("answer.json");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(netns ? List.of("unshare", "-rn") : List.of());
        cmd.addAll(List.of("bash", script.toString(), log.toString(), out.toString(), answer.toString(),
                java.toString(), "-Xmx256m", "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Duser.home=" + tmp.resolve("home"),
                "-Dbulkhead.cache.dir=" + System.getProperty("bulkhead.cache.dir", tmp.resolve("cache").toString()),
                "-cp", System.getProperty("java.class.path"), "dev.bulkhead.server.cli.BulkheadCli", "serve",
                "--port", "0", "--threads", "1", "--kv-cache-mb", "16"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("script.out").toFile());
        // NOTE: what a user's shell may set must not decide the outcome: the defaults are what is tested.
        pb.environment().keySet().removeIf(k -> k.equals("OPT_OUT_TRACKING") || k.equals("DJL_OFFLINE"));
        pb.environment().put("BULKHEAD_NETNS", netns ? "1" : "0");
        Process p = pb.start();
        assertThat(p.waitFor(150, TimeUnit.SECONDS)).as("the traced server run finished").isTrue();
        String serveOut = Files.readString(out);
        assertThat(serveOut).as("serve's output").contains("Bulkhead is serving");

        assertNothingLeftTheMachine(log, netns);
        assertThat(tmp.resolve("home/.djl.ai")).as("nothing written to ~/.djl.ai").doesNotExist();
        JsonNode body = new ObjectMapper().readTree(Files.readString(answer));
        assertThat(body.at("/choices/0/text").asText()).as("the completion answered").isNotBlank();
    }

    private static void assertNothingLeftTheMachine(Path log, boolean netns) throws java.io.IOException {
        List<String> outside = new ArrayList<>();
        List<String> spawned = new ArrayList<>();
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.contains("execve(") && i > 0) {
                spawned.add(line);
            }
            for (Pattern p4or6 : new Pattern[] {V4, V6}) {
                Matcher m = p4or6.matcher(line);
                while (m.find()) {
                    if (!isLoopback(m.group(2))) {
                        outside.add(line);
                    }
                }
            }
        }
        System.out.println("NoPhoneHomeTest: " + log.getFileName() + ": " + lines.size() + " traced calls"
                + (netns ? " in a network namespace with only loopback"
                        : " (no user namespaces here: traced on the host's network)")
                + "; outside loopback: " + outside.size() + ", programs spawned: " + spawned.size());
        assertThat(outside).as("connections or datagrams to anything but loopback").isEmpty();
        assertThat(spawned).as("programs started (DJL's ldconfig -p, a forked JVM)").isEmpty();
    }

    @Test
    @Timeout(120)
    void theEngineAsALibraryConnectsToNothingAndWritesNothingOutsideItsCache() throws Exception {
        assumeThat(works("strace", "-qq", "-e", "trace=none", "true")).as("strace can trace here").isTrue();
        boolean netns = works("unshare", "-rn", "sh", "-c", "ip link set lo up");
        Path script = tmp.resolve("library-traced.sh");
        Files.writeString(script, LIBRARY_SCRIPT);
        Path log = tmp.resolve("strace-library.log");
        Path out = tmp.resolve("library.out");
        Path cache = tmp.resolve("cache");
        List<String> cmd = new ArrayList<>(netns ? List.of("unshare", "-rn") : List.of());
        cmd.addAll(List.of("bash", script.toString(), log.toString(), out.toString(),
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "--add-modules",
                "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Duser.home=" + tmp.resolve("home"),
                "-Dbulkhead.cache.dir=" + cache, "-cp", System.getProperty("java.class.path"),
                GenerateOnce.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("library-script.out").toFile());
        pb.environment().keySet().removeIf(k -> k.equals("OPT_OUT_TRACKING") || k.equals("DJL_OFFLINE")
                || k.equals("ENGINE_CACHE_DIR") || k.equals("DJL_CACHE_DIR") || k.equals("XDG_CACHE_HOME"));
        pb.environment().put("BULKHEAD_NETNS", netns ? "1" : "0");
        Process p = pb.start();
        assertThat(p.waitFor(100, TimeUnit.SECONDS)).as("the traced library run finished").isTrue();
        assertThat(Files.readString(out)).as("the library run's output").contains("GENERATED 8 tokens");
        assertNothingLeftTheMachine(log, netns);
        assertThat(tmp.resolve("home/.djl.ai")).as("nothing written to ~/.djl.ai").doesNotExist();
        try (var files = Files.walk(cache)) {
            assertThat(files.anyMatch(f -> f.getFileName().toString().startsWith("libtokenizers")))
                    .as("DJL's native library unpacked in Bulkhead's cache").isTrue();
        }
    }

    private static boolean isLoopback(String address) {
        return address.startsWith("127.") || address.equals("::1") || address.startsWith("::ffff:127.");
    }
}
