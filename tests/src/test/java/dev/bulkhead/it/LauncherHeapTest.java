package dev.bulkhead.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The launcher's heap limit ({@code .mvn/heap-size.sh}, sourced by {@code ./bulkhead}): the flag it computes for each
 * command, and what it does to {@code serve}'s memory. The server runs as the launcher runs it (the same jar and JVM
 * flags), answers a request, then takes {@value #LOAD_SECONDS} s of 8 clients posting 1 MB prompts; its resident set
 * (VmRSS, and the peak VmHWM) is printed. Without a limit that load grew it to about 2.5 GB on a 24 GB machine.
 */
class LauncherHeapTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path JAR = ROOT.resolve("server/target/bulkhead.jar");
    private static final int LOAD_SECONDS = 10;
    private static final Pattern SERVING = Pattern.compile("on http://127\\.0\\.0\\.1:(\\d+)");

    private static String heapFlag(String javaOpts, String... args) throws Exception {
        return heapFlagWith(java.util.Map.of(), javaOpts, args);
    }

    private static String heapFlagWith(java.util.Map<String, String> env, String javaOpts, String... args) throws Exception {
        return heapFlagIn("bash", "set -euo pipefail", "", env, javaOpts, args);
    }

    /**
     * The flag as {@code shell} computes it, after {@code prelude} (shell code run once the script is sourced: the
     * tests redefine its memory probes there so that the answer does not depend on this machine).
     */
    private static String heapFlagIn(String shell, String options, String prelude, java.util.Map<String, String> env,
                                     String javaOpts, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(shell, "-c",
                options + "; . .mvn/heap-size.sh; " + prelude + " bulkhead_heap_opts \"$@\"", "heap"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true);
        pb.environment().remove("BULKHEAD_JAVA_OPTS");
        pb.environment().putAll(env);
        if (javaOpts != null) {
            pb.environment().put("BULKHEAD_JAVA_OPTS", javaOpts);
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    @Test
    void theHeapFollowsTheKvPoolAndTheModelAndTheUserDecidesLast() throws Exception {
        // 256 MB + KV pool * 4/3 + min(weights / 16, 1 GB), rounded up to 64 MB. serve's KV pool is auto by default:
        // 64 requests at the embedded model's full 512 positions, 1280 bytes a token, plus the null block: 41 MB.
        assertThat(heapFlag(null, "serve", "--port", "0")).isEqualTo("-Xmx320m");
        assertThat(heapFlag(null, "serve", "--kv-cache-mb", "auto")).isEqualTo("-Xmx320m");
        assertThat(heapFlag(null, "serve", "--kv-cache-mb=256")).as("the old fixed default").isEqualTo("-Xmx640m");
        assertThat(heapFlag(null, "serve", "--kv-cache-mb=1024")).isEqualTo("-Xmx1664m");
        assertThat(heapFlag(null, "serve", "--kv-cache-mb", "16")).isEqualTo("-Xmx320m");
        assertThat(heapFlag(null, "serve", "--device", "cuda", "--kv-cache-mb", "8000")).isEqualTo("-Xmx256m");
        assertThat(heapFlag(null, "generate", "--prompt", "Once upon a time")).isEqualTo("-Xmx320m");
        Path hf = SharedData.root().resolve("models/stories260K-hf");
        if (Files.isDirectory(hf)) {
            // 5 layers * 4 KV heads * 8 dims * 2 (K, V) * 4 bytes * (512 + 32) tokens: under 1 MB.
            assertThat(heapFlag(null, "generate", "-m", hf.toString(), "--context", "4096")).isEqualTo("-Xmx320m");
        }
        assertThat(heapFlag("-Xmx2g", "serve")).as("BULKHEAD_JAVA_OPTS sets the heap").isEmpty();
        assertThat(heapFlag("-XX:MaxRAMPercentage=50", "serve")).isEmpty();
        assertThat(heapFlag(null, "models")).as("commands that load no model").isEmpty();
        assertThat(heapFlag(null, "serve", "--kv-cache-mb", "lots")).as("left to the command's own check").isEmpty();
    }

    /** A model of stories110M's shape (12 layers, 12 KV heads of 64 dims: 72 KiB a token in f32), weights {@code weightsMb}. */
    private static Path stories110m(Path dir, long weightsMb) throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": 768, \"num_hidden_layers\": 12, "
                + "\"num_attention_heads\": 12, \"num_key_value_heads\": 12, \"max_position_embeddings\": 2048}");
        try (var f = new java.io.RandomAccessFile(dir.resolve("model.safetensors").toFile(), "rw")) {
            f.setLength(weightsMb << 20); // NOTE: sparse; only its size is read
        }
        return dir;
    }

    /** The machine's memory as the script sees it: {@code totalMb} physical, {@code availableMb} available (or unknown). */
    private static String memory(long totalMb, String availableMb) {
        return "bulkhead_memory_mb() { echo " + totalMb + "; }; bulkhead_available_mb() { echo " + availableMb + "; };";
    }

    private static String autoServe(String memory, Path model, String... more) throws Exception {
        List<String> args = new ArrayList<>(List.of("serve", "--model", model.toString()));
        args.addAll(List.of(more));
        String bash = heapFlagIn("bash", "set -euo pipefail", memory, java.util.Map.of(), null, args.toArray(String[]::new));
        if (Files.isExecutable(Path.of("/bin/dash"))) {
            // NOTE: the script stays POSIX sh: dash must agree.
            assertThat(heapFlagIn("/bin/dash", "set -eu", memory, java.util.Map.of(), null, args.toArray(String[]::new)))
                    .as("dash").isEqualTo(bash);
        }
        return bash;
    }

    @Test
    void autoKvForServeIsTheFullDemandWhenMemoryAllows(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path model = stories110m(dir, 0);
        // 64 requests * 2048 tokens (+ the null block) * 72 KiB = 9218 MB; heap 256 + 9218 * 4/3, rounded up to 64 MB.
        assertThat(autoServe(memory(64_000, "60000"), model)).isEqualTo("-Xmx12608m");
        assertThat(autoServe(memory(64_000, "60000"), model, "--kv-cache-mb", "auto")).isEqualTo("-Xmx12608m");
        // 8 requests of 512 tokens: 73728 B * (8 * 512 + 16) = 290 MB.
        assertThat(autoServe(memory(64_000, "60000"), model, "--max-running", "8", "--context=512"))
                .isEqualTo("-Xmx704m");
        assertThat(autoServe(memory(64_000, "60000"), model, "--context", "100000"))
                .as("the context is capped at the model's").isEqualTo("-Xmx12608m");
        assertThat(autoServe(memory(64_000, "60000"), model, "--device", "cuda"))
                .as("on the GPU the pool is not heap").isEqualTo("-Xmx256m");
        assertThat(autoServe(memory(64_000, "60000"), model, "--kv-cache-mb", "100")).as("an explicit size")
                .isEqualTo("-Xmx448m");
        assertThat(autoServe(memory(64_000, "60000"), model, "--max-running", "many")).as("the command's to refuse")
                .isEmpty();
    }

    @Test
    void autoKvForServeIsCappedByAvailableMemoryLessTheWeights(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        Path model = stories110m(dir, 0);
        // 80% of 8000 MB available: a 6400 MB heap, whose KV pool is (6400 - 256) * 3/4 = 4608 MB.
        assertThat(autoServe(memory(16_000, "8000"), model)).isEqualTo("-Xmx6400m");
        // Without MemAvailable, 80% of physical memory: 9600 MB, a pool of (9600 - 256) * 3/4 = 7008 MB.
        assertThat(autoServe(memory(12_000, ""), model)).isEqualTo("-Xmx9600m");
        // Nearly nothing available: the floor is one request of 2048 (+ 32) tokens, 147 MB.
        assertThat(autoServe(memory(16_000, "100"), model)).isEqualTo("-Xmx512m");
        // 2 GB of weights: they need page cache (8000 - 2048 MB) and add 128 MB to the heap's fixed part:
        // (5952 * 4/5 - 384) * 3/4 = 3282 MB of KV, a heap of 384 + 4376 MB.
        Path heavy = stories110m(Files.createDirectories(dir.resolve("heavy")), 2048);
        assertThat(autoServe(memory(16_000, "8000"), heavy)).isEqualTo("-Xmx4800m");
        // Physical memory still caps the heap as for any size.
        assertThat(autoServe(memory(16_000, "8000"), model, "--kv-cache-mb", "20000")).isEqualTo("-Xmx12800m");
    }

    @Test
    void aPulledRepoIdIsSizedLikeItsSnapshotDirectory(@org.junit.jupiter.api.io.TempDir Path hub) throws Exception {
        // NOTE: 64 layers of the embedded model's shape: 2 * 64 * 4 * 8 * 4 bytes * (512 + 32) tokens = 9 MB of KV.
        Path snapshot = Files.createDirectories(hub.resolve("models--org--deep/snapshots/c0ffee"));
        Files.createDirectories(hub.resolve("models--org--deep/refs"));
        Files.writeString(hub.resolve("models--org--deep/refs/main"), "c0ffee");
        Files.writeString(snapshot.resolve("config.json"), "{\"num_hidden_layers\": 64, \"num_attention_heads\": 8, "
                + "\"num_key_value_heads\": 4, \"hidden_size\": 64, \"max_position_embeddings\": 512}");
        java.util.Map<String, String> env = java.util.Map.of("BULKHEAD_CACHE", hub.toString());
        String byDir = heapFlagWith(env, null, "chat", "--model", snapshot.toString());
        assertThat(byDir).isEqualTo("-Xmx320m");
        assertThat(heapFlagWith(env, null, "chat", "--model", "org/deep")).isEqualTo(byDir);
        assertThat(heapFlagWith(env, null, "chat", "--model", "org/deep", "--context", "100000")).isEqualTo(byDir);
        assertThat(heapFlagWith(env, null, "serve", "--model", "org/not-pulled")).as("shape unknown: auto KV as the "
                + "old fixed 256 MB").isEqualTo("-Xmx640m");
    }

    @Test
    @Timeout(180)
    void serveStaysWithinItsHeapUnderLargePromptLoad() throws Exception {
        assumeThat(JAR).as("the CLI jar (built by the server module's package phase; run `verify`)").exists();
        assumeThat(Path.of("/proc/self/status")).as("Linux /proc for the resident set").exists();
        String heap = heapFlag(null, "serve");
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), heap,
                "-Dbulkhead.cache.dir=" + System.getProperty("bulkhead.cache.dir"), "--add-modules",
                "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-jar",
                JAR.toString(), "serve", "--port", "0");
        Process server = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(),
                    StandardCharsets.UTF_8));
            int port = CompletableFuture.supplyAsync(() -> {
                try {
                    for (String l; (l = out.readLine()) != null; ) {
                        Matcher m = SERVING.matcher(l);
                        if (l.startsWith("Bulkhead is serving") && m.find()) {
                            return Integer.parseInt(m.group(1));
                        }
                    }
                    return -1;
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).get(120, TimeUnit.SECONDS);
            assertThat(port).isPositive();
            CompletableFuture.runAsync(() -> out.lines().forEach(l -> { }));
            URI completions = URI.create("http://127.0.0.1:" + port + "/v1/completions");
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpResponse<String> one = http.send(HttpRequest.newBuilder(completions)
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                            "{\"model\":\"stories260K\",\"prompt\":\"Once upon a time\",\"max_tokens\":48}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(one.statusCode()).as(one.body()).isEqualTo(200);
            long afterOne = kb(server.pid(), "VmRSS");

            String big = "{\"model\":\"stories260K\",\"prompt\":\"" + "Once upon a time there was a girl. "
                    .repeat(28_000) + "\",\"max_tokens\":1}";
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < 8; c++) {
                clients.add(Thread.ofPlatform().start(() -> {
                    while (!stop.get()) {
                        try {
                            http.send(HttpRequest.newBuilder(completions).timeout(Duration.ofSeconds(60))
                                    .header("Content-Type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofString(big)).build(),
                                    HttpResponse.BodyHandlers.discarding());
                        } catch (Exception e) {
                            return;
                        }
                    }
                }));
            }
            Thread.sleep(LOAD_SECONDS * 1000L);
            stop.set(true);
            for (Thread t : clients) {
                t.join(60_000);
            }
            long afterLoad = kb(server.pid(), "VmRSS");
            long peak = kb(server.pid(), "VmHWM");
            System.out.printf("LauncherHeapTest: serve (embedded stories260K, %s): VmRSS %d MB after one request, "
                    + "%d MB after %d s of 8 clients posting 1 MB prompts (peak %d MB)%n", heap, afterOne >> 10,
                    afterLoad >> 10, LOAD_SECONDS, peak >> 10);
            // NOTE: the heap limit plus the JVM's own memory (code, metaspace, threads, the tokenizer library); far
            // under the 2.5 GB the same load reached without a limit.
            assertThat(peak >> 10).as("peak resident set in MB").isLessThan(1_200);
        } finally {
            server.destroy();
            server.waitFor(30, TimeUnit.SECONDS);
            server.destroyForcibly();
        }
    }

    private static long kb(long pid, String field) throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (l.startsWith(field + ":")) {
                return Long.parseLong(l.replaceAll("[^0-9]", ""));
            }
        }
        throw new AssertionError(field + " not in /proc/" + pid + "/status");
    }
}
