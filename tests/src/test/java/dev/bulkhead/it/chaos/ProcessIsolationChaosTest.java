package dev.bulkhead.it.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bulkhead.cuemu.CudaEmulator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The outage again, through {@code bulkhead serve --config}: four models under steady load, one fault at a time —
 * {@code kill -9} of a worker, a native segfault, a real heap exhaustion, a worker that hangs with no heartbeat, a
 * worker that floods its socket, and a sticky {@code CUDA_ERROR_ILLEGAL_ADDRESS} on {@code --device cuda-emulator}
 * — first with every model in a worker process, then the same faults with {@code --isolation in-process}.
 *
 * <p>With process isolation it asserts what the issue asks: unaffected models answer everything with p99 within
 * 1.5x of the no-fault phase; the affected model's requests are at least 99 % answered, by its fallback, marked
 * degraded; it is detected and restarted on a new worker; no KV block is in use and no worker process is left at
 * the end. In-process it asserts what happens instead: a native crash and a kill take every model down.
 *
 * <p>CI runs {@value #DEFAULT_WINDOW_MILLIS} ms per fault; {@code -Dbulkhead.chaos.windowMillis=10000} lengthens
 * every window for the figures in {@code docs/reliability.md}. The tables go to
 * {@code target/chaos-process/process-isolation.md}.
 */
@Tag("chaos")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ProcessIsolationChaosTest {

    private static final long DEFAULT_WINDOW_MILLIS = 3_000;
    private static final long WINDOW = Long.getLong("bulkhead.chaos.windowMillis", DEFAULT_WINDOW_MILLIS);
    private static final int CLIENTS = Integer.getInteger("bulkhead.chaos.clients", 2);
    /**
     * How far an unaffected model's p99 may rise over the no-fault phase: the issue's 1.5x in long runs. CI's short
     * windows hold ~50 requests a model, so p99 is their slowest, and a restarting neighbour JVM (about 1.6 CPU
     * seconds to load and compile) competes for CI's 2 cores with every other worker's steps; there the bound only
     * catches a model being held up by another's fault, not the restart's CPU.
     */
    private static final double P99_FACTOR = Double.parseDouble(System.getProperty("bulkhead.chaos.p99Factor",
            WINDOW >= 10_000 ? "1.5" : "2.5"));
    /**
     * In CI's short windows, also this much over the no-fault p99 (ms): the slowest of ~50 requests on a shared 2-core
     * machine moves with whatever else runs there, while a model really held up by another's fault stalls for the
     * fault's whole window (seconds). Long runs, which the README's figures come from, allow no slack.
     */
    private static final double P99_SLACK_MILLIS = WINDOW >= 10_000 ? 0 : 1_500;
    private static final int MAX_TOKENS = 12;
    private static final Path DIR = Path.of("target", "chaos-process").toAbsolutePath();
    private static final Path REPORT = DIR.resolve("process-isolation.md");
    private static final ChaosReport REPORT_ROWS = new ChaosReport();

    /** A fault, and how it is injected. */
    enum Drill {
        KILL_9("kill -9"), NATIVE_CRASH("segfault"), HEAP_EXHAUSTION("heap exhaustion"), WORKER_HANG("hang, no heartbeat"),
        SOCKET_FLOOD("socket flood"), CUDA_ILLEGAL_ADDRESS("sticky CUDA error");

        final String words;

        Drill(String words) {
            this.words = words;
        }
    }

    private record Phase(Drill drill, String target) {
        String name() {
            return drill == null ? "no fault" : drill.words + " in " + target;
        }
    }

    /** Detection and recovery of one phase, in ms from the fault (-1: not seen). */
    private record Timing(long detectMs, long recoverMs, boolean serverDied) {
    }

    @BeforeAll
    static void fresh() throws Exception {
        Files.createDirectories(DIR);
        Files.deleteIfExists(REPORT);
    }

    @Test
    @Order(1)
    @Timeout(600)
    void withAWorkerPerModelEveryFaultStaysWithItsModel() throws Exception {
        ChaosConfig config = new ChaosConfig(DIR.resolve("router.yaml"), false);
        List<Phase> phases = List.of(new Phase(Drill.KILL_9, "large-v3"), new Phase(Drill.NATIVE_CRASH, "large-v2"),
                new Phase(Drill.HEAP_EXHAUSTION, "large-v1"), new Phase(Drill.WORKER_HANG, "small-v1"),
                new Phase(Drill.SOCKET_FLOOD, "large-v3"));
        long servePid;
        List<ChaosReport.Row> baseline;
        List<List<ChaosReport.Row>> results = new ArrayList<>();
        try (ServeProcess serve = new ServeProcess(config.file(), DIR, "serve-process", "--isolation", "process");
             AutoCloseable printed = () -> REPORT_ROWS.print("isolation: process (a worker JVM per model)", "process",
                     REPORT)) {
            servePid = serve.pid();
            assertThat(awaitAllReady(serve, 60_000)).as("all four ready:\n%s", serve.output()).isTrue();
            reportMemory(serve);
            String metrics = serve.get("/metrics");
            for (String m : ChaosConfig.MODELS) {
                assertThat(metrics).as("/metrics carries %s's worker metrics", m)
                        .contains("bulkhead_generation_tokens_total{model=\"" + m + "\"}")
                        .contains("bulkhead_worker_rss_bytes{model=\"" + m + "\"}");
            }
            try (CompletionLoad load = new CompletionLoad(serve.uri("/"), List.copyOf(ChaosConfig.ALIASES.keySet()),
                    CLIENTS, MAX_TOKENS)) {
                Thread.sleep(3_000); // warm-up: JIT in every worker, and the answer cache
                baseline = baseline(serve, load, "process");
                for (Phase p : phases) {
                    results.add(drill(serve, config, load, p, true));
                }
            }
            assertThat(awaitAllReady(serve, 20_000)).as("all ready at the end").isTrue();
            for (String m : ChaosConfig.MODELS) {
                // NOTE: polled: a readiness probe holds a block for the moment of its step.
                assertThat(await(5_000, () -> serve.state(m).kvBlocksInUse() == 0))
                        .as("no KV block in use by %s at the end: %s", m, serve.state(m)).isTrue();
            }
            REPORT_ROWS.note("no KV block in use at the end");
            serve.stop();
            assertThat(serve.output()).doesNotContain("Exception in thread");
            assertNoOrphans(servePid);
            REPORT_ROWS.note("no worker process left after serve stopped (SIGTERM)");
        }
        for (int i = 0; i < phases.size(); i++) {
            assertProcessIsolation(phases.get(i), results.get(i), baseline);
        }
    }

    @Test
    @Order(2)
    @Timeout(600)
    void inProcessTheFaultsTheJvmCannotContainTakeEveryModel() throws Exception {
        ChaosConfig config = new ChaosConfig(DIR.resolve("router-in-process.yaml"), false);
        try (ServeProcess serve = new ServeProcess(config.file(), DIR, "serve-in-process", "--isolation", "in-process")) {
            assertThat(awaitAllReady(serve, 60_000)).as("all four ready:\n%s", serve.output()).isTrue();
            try (CompletionLoad load = new CompletionLoad(serve.uri("/"), List.copyOf(ChaosConfig.ALIASES.keySet()),
                    CLIENTS, MAX_TOKENS)) {
                Thread.sleep(3_000);
                baseline(serve, load, "in-process");
                for (Phase p : List.of(new Phase(Drill.WORKER_HANG, "small-v1"), new Phase(Drill.SOCKET_FLOOD, "large-v3"),
                        new Phase(Drill.HEAP_EXHAUSTION, "large-v1"))) {
                    if (serve.alive()) {
                        drill(serve, config, load, p, false);
                    }
                }
            }
        }
        for (Phase p : List.of(new Phase(Drill.NATIVE_CRASH, "large-v2"), new Phase(Drill.KILL_9, "large-v3"))) {
            try (ServeProcess serve = new ServeProcess(config.file(), DIR, "serve-in-process-" + p.drill(),
                    "--isolation", "in-process")) {
                assertThat(awaitAllReady(serve, 60_000)).as("all four ready:\n%s", serve.output()).isTrue();
                try (CompletionLoad load = new CompletionLoad(serve.uri("/"),
                        List.copyOf(ChaosConfig.ALIASES.keySet()), CLIENTS, MAX_TOKENS)) {
                    Thread.sleep(2_000);
                    List<ChaosReport.Row> rows = drill(serve, config, load, p, false);
                    assertThat(serve.alive()).as("in-process, %s ends the server", p.name()).isFalse();
                    for (ChaosReport.Row r : rows) {
                        assertThat(r.errors()).as("%s: %s lost answers too", p.name(), r.model()).isPositive();
                    }
                }
            }
        }
        REPORT_ROWS.print("isolation: in-process (one JVM for all four)", "in-process", REPORT);
    }

    @Test
    @Order(3)
    @Timeout(600)
    void aStickyCudaErrorOnTheEmulator() throws Exception {
        assumeTrue(CudaEmulator.isBuilt(), () -> "the CUDA emulator is not built: " + CudaEmulator.unavailableReason());
        List<ChaosReport.Row> processRows = null;
        for (String isolation : List.of("process", "in-process")) {
            ChaosConfig config = new ChaosConfig(DIR.resolve("router-cuda-" + isolation + ".yaml"), true);
            long servePid;
            List<ChaosReport.Row> rows;
            try (ServeProcess serve = new ServeProcess(config.file(), DIR, "serve-cuda-" + isolation, "--isolation",
                    isolation, "--device", "cuda-emulator")) {
                servePid = serve.pid();
                assertThat(awaitAllReady(serve, 120_000)).as("all four ready:\n%s", serve.output()).isTrue();
                try (CompletionLoad load = new CompletionLoad(serve.uri("/"), List.copyOf(ChaosConfig.ALIASES.keySet()),
                        1, 4)) {
                    Thread.sleep(3_000);
                    baseline(serve, load, "cuda " + isolation);
                    rows = drill(serve, config, load, new Phase(Drill.CUDA_ILLEGAL_ADDRESS, "large-v2"),
                            isolation.equals("process"));
                }
                if (isolation.equals("process")) {
                    // The router dies the hard way: its workers must notice and exit on their own.
                    serve.kill9();
                }
            }
            if (isolation.equals("process")) {
                assertNoOrphans(servePid);
                REPORT_ROWS.note("serve killed with SIGKILL at the end: no worker process left");
            }
            REPORT_ROWS.print("--device cuda-emulator, isolation: " + isolation, "cuda " + isolation, REPORT);
            if (isolation.equals("process")) {
                processRows = rows;
            }
        }
        // NOTE: no latency bound here: every emulated step is CPU work, so a worker restarting on the emulator slows
        // its neighbours in a way device time on a GPU would not; what must hold is who answers, and the recovery.
        for (ChaosReport.Row r : processRows) {
            if (r.affected()) {
                assertThat(r.answered()).as("%s answered (by fallbacks)", r.model()).isGreaterThanOrEqualTo(0.99);
                assertThat(r.degraded()).as("%s's answers marked degraded", r.model()).isPositive();
                assertThat(r.recoverMs()).as("a new worker of %s serves on a fresh context", r.model()).isPositive();
            } else {
                assertThat(r.errors()).as("errors of unaffected %s", r.model()).isZero();
            }
        }
    }

    // ---- phases

    private static List<ChaosReport.Row> baseline(ServeProcess serve, CompletionLoad load, String isolation)
            throws InterruptedException {
        long t0 = System.nanoTime();
        Thread.sleep(WINDOW);
        List<ChaosReport.Row> rows = rows(isolation, new Phase(null, null), load, t0, System.nanoTime(),
                new Timing(-1, -1, false));
        REPORT_ROWS.add(rows);
        for (ChaosReport.Row r : rows) {
            assertThat(r.errors()).as("%s: no errors without a fault (%s)", r.model(), isolation).isZero();
        }
        return rows;
    }

    /** Injects one fault, watches its model for the window, clears it, and waits for it to serve again. */
    private static List<ChaosReport.Row> drill(ServeProcess serve, ChaosConfig config, CompletionLoad load, Phase p,
                                               boolean processMode) throws Exception {
        String isolation = (p.drill() == Drill.CUDA_ILLEGAL_ADDRESS ? "cuda " : "") + (processMode ? "process" : "in-process");
        ServeProcess.ModelState before = serve.state(p.target());
        long t0 = System.nanoTime();
        if (p.drill() == Drill.KILL_9) {
            if (processMode) {
                ProcessHandle.of(before.workerPid()).orElseThrow().destroyForcibly();
            } else {
                serve.kill9();
            }
        } else {
            config.inject(p.target(), p.drill().name());
        }
        long detect = -1;
        long recover = -1;
        boolean cleared = p.drill() == Drill.KILL_9;
        long end = t0 + TimeUnit.MILLISECONDS.toNanos(WINDOW);
        long until = end + TimeUnit.SECONDS.toNanos(processMode ? 30 : 10);
        while (System.nanoTime() < until && (System.nanoTime() < end || (recover < 0 && serve.alive()))) {
            long now = System.nanoTime();
            ServeProcess.ModelState s = serve.alive() ? serve.state(p.target()) : null;
            boolean unready = s == null || !s.ready();
            if (detect < 0 && (unready || !load.since(t0).stream().filter(x -> ChaosConfig.ALIASES.get(x.alias())
                    .equals(p.target())).allMatch(x -> x.ok() && !x.degraded()))) {
                detect = now;
            }
            if (detect >= 0 && recover < 0 && s != null && s.ready()
                    && (!processMode || s.workerPid() != before.workerPid())) {
                recover = now;
            }
            if (now >= end && !cleared) {
                config.clear(p.target(), p.drill().name());
                cleared = true;
            }
            Thread.sleep(20);
        }
        if (!cleared) {
            config.clear(p.target(), p.drill().name());
        }
        boolean died = !serve.alive();
        load.awaitOutcomes(t0, end, 20_000);
        Timing t = new Timing(detect < 0 ? -1 : (detect - t0) / 1_000_000, recover < 0 ? -1 : (recover - t0) / 1_000_000,
                died);
        List<ChaosReport.Row> rows = rows(isolation, p, load, t0, end, t);
        REPORT_ROWS.add(rows);
        if (died) {
            REPORT_ROWS.note(isolation + ", " + p.name() + ": the server process died ("
                    + lastLines(serve.output(), "fatal error|SIGSEGV|OutOfMemory|Killed", 2) + ")");
        } else if (processMode) {
            ServeProcess.ModelState after = serve.state(p.target());
            REPORT_ROWS.note(isolation + ", " + p.name() + ": worker pid " + before.workerPid() + " -> "
                    + after.workerPid() + "; " + lastLines(serve.output(), "\\(pid " + before.workerPid() + "\\):? [a-z]", 1));
        }
        Thread.sleep(1_000);
        return rows;
    }

    private static List<ChaosReport.Row> rows(String isolation, Phase p, CompletionLoad load, long t0, long t1,
                                              Timing t) {
        List<ChaosReport.Row> rows = new ArrayList<>();
        List<CompletionLoad.Sample> window = load.between(t0, t1);
        for (String model : ChaosConfig.MODELS) {
            String alias = ChaosConfig.alias(model);
            boolean affected = model.equals(p.target());
            rows.add(ChaosReport.row(isolation, p.name(), model, affected,
                    window.stream().filter(s -> s.alias().equals(alias)).toList(),
                    affected ? t.detectMs() : -1, affected ? t.recoverMs() : -1));
        }
        return rows;
    }

    private static void assertProcessIsolation(Phase p, List<ChaosReport.Row> rows, List<ChaosReport.Row> baseline) {
        for (ChaosReport.Row r : rows) {
            if (r.affected()) {
                assertThat(r.answered()).as("%s: %s answered (by fallbacks)", p.name(), r.model())
                        .isGreaterThanOrEqualTo(0.99);
                assertThat(r.degraded()).as("%s: %s's answers marked degraded", p.name(), r.model()).isPositive();
                assertThat(r.detectMs()).as("%s detected", p.name()).isNotNegative();
                assertThat(r.recoverMs()).as("%s: a new worker serves", p.name()).isPositive();
            } else {
                double base = baseline.stream().filter(b -> b.model().equals(r.model())).findFirst().orElseThrow().p99();
                assertThat(r.errors()).as("%s: errors of unaffected %s", p.name(), r.model()).isZero();
                assertThat(r.p99()).as("%s: p99 of unaffected %s within %.1fx (or +%.0f ms) of the no-fault %.1f ms",
                        p.name(), r.model(), P99_FACTOR, P99_SLACK_MILLIS, base)
                        .isLessThanOrEqualTo(Math.max(P99_FACTOR * base, base + P99_SLACK_MILLIS));
            }
        }
    }

    // ---- helpers

    private static boolean await(long millis, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < until) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(10);
        }
        return condition.getAsBoolean();
    }

    private static boolean awaitAllReady(ServeProcess serve, long millis) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < until && serve.alive()) {
            if (ChaosConfig.MODELS.stream().allMatch(m -> {
                ServeProcess.ModelState s = serve.state(m);
                return s != null && s.ready();
            })) {
                return true;
            }
            Thread.sleep(50);
        }
        return false;
    }

    /** RSS of each worker and of the router, from /ready and /proc. */
    private static void reportMemory(ServeProcess serve) {
        long total = 0;
        StringBuilder sb = new StringBuilder("resident set after start: ");
        for (String m : ChaosConfig.MODELS) {
            long rss = serve.state(m).rssBytes();
            total += rss;
            sb.append(m).append(' ').append(rss >> 20).append(" MiB, ");
        }
        long router = rss(serve.pid());
        sb.append(String.format(Locale.ROOT, "four workers %d MiB; the router %d MiB; together %d MiB", total >> 20,
                router >> 20, (total + router) >> 20));
        REPORT_ROWS.note(sb.toString());
    }

    private static long rss(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).strip().split("\\s+")[0]) * 1024;
                }
            }
        } catch (Exception e) {
            return -1;
        }
        return -1;
    }

    /** No process started by {@code servePid} as a worker is still running (zombies awaiting a reaper count as gone). */
    private static void assertNoOrphans(long servePid) throws InterruptedException {
        String marker = "--parent-pid " + servePid;
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<Long> left;
        do {
            left = ProcessHandle.allProcesses().filter(h -> h.info().commandLine().map(c -> c.contains(marker))
                    .orElse(false)).map(ProcessHandle::pid).filter(ProcessIsolationChaosTest::running).toList();
            if (left.isEmpty()) {
                return;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < until);
        assertThat(left).as("worker processes of serve pid %d still running", servePid).isEmpty();
    }

    private static boolean running(long pid) {
        try {
            String s = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return s.charAt(s.lastIndexOf(')') + 2) != 'Z';
        } catch (Exception e) {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }
    }

    private static String lastLines(String output, String regex, int n) {
        java.util.regex.Pattern p = java.util.regex.Pattern.compile(regex);
        List<String> hits = output.lines().filter(l -> p.matcher(l).find()).toList();
        return String.join(" / ", hits.subList(Math.max(0, hits.size() - n), hits.size())).strip();
    }
}
