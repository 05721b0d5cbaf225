package dev.bulkhead.router;

import static dev.bulkhead.router.RouterFixtures.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.bulkhead.engine.InvalidRequestException;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.api.TokenDelta;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A model in a worker process behind the router, beside the same model in-process: the same greedy ids whole and
 * streamed, bad input refused as in-process, a worker killed with SIGKILL mid-stream ending that stream with an
 * error that names the signal and being restarted to serve again, and no worker left once the router is closed.
 */
class WorkerProcessTest {

    private static RouterConfig config(long slowStepMillis) {
        ModelSpec local = RouterFixtures.model("local", RouterFixtures.stories()).withIsolation(Isolation.IN_PROCESS);
        ModelSpec remote = RouterFixtures.model("remote", RouterFixtures.stories()).withIsolation(Isolation.PROCESS)
                .withEngine(EngineSpec.defaults().withKvCacheBytes(1 << 20).withMaxModelLen(256));
        RouterConfig c = RouterConfig.of(List.of(local, remote), new RoutingTable(1, Map.of(
                "chat", new Route(List.of(RouteTarget.of("remote")), List.of("local")))))
                .withWatchdog(RouterFixtures.fastWatchdog());
        if (slowStepMillis > 0) {
            c = c.withFaults(new FaultSpec(true, slowStepMillis, 0, Map.of("remote", List.of(Fault.SLOW_STEPS))));
        }
        return c;
    }

    private static GenerateRequest greedy(String prompt, int tokens) {
        return GenerateRequest.of(prompt, SamplingParams.greedy(tokens).toBuilder().ignoreEos(true).build())
                .withDeadline(Instant.now().plusSeconds(30));
    }

    @Test
    @Timeout(120)
    void aWorkerAnswersAsTheInProcessEngineDoesAndRefusesWhatItRefuses() throws Exception {
        try (Router router = Router.start(config(0))) {
            // NOTE: a cold worker JVM's first probe can outlast the fixture's 500 ms on a loaded machine; the next
            // probe, 200 ms later, runs compiled code.
            assertThat(await(Duration.ofSeconds(20), () -> router.health().allReady())).as("%s", router.health())
                    .isTrue();
            ModelHealth remote = router.health("remote").orElseThrow();
            assertThat(remote.isolation()).isEqualTo(Isolation.PROCESS);
            assertThat(remote.worker()).isNotNull();
            assertThat(remote.worker().pid()).isNotEqualTo(ProcessHandle.current().pid());
            assertThat(ProcessHandle.of(remote.worker().pid())).as("a live child process").isPresent()
                    .get().matches(ProcessHandle::isAlive);

            RoutedCompletion here = router.submit("local", greedy("Once upon a time", 24)).get(30, TimeUnit.SECONDS);
            RoutedCompletion there = router.submit("remote", greedy("Once upon a time", 24)).get(30, TimeUnit.SECONDS);
            assertThat(there.servedBy()).isEqualTo("remote");
            assertThat(there.completion().tokenIds()).as("greedy ids through the worker")
                    .containsExactly(here.completion().tokenIds());
            assertThat(there.completion().text()).isEqualTo(here.completion().text());

            RoutedStream rs = router.stream("chat", greedy("Once upon a time", 24));
            List<TokenDelta> deltas = collect(rs);
            assertThat(rs.origin().get(30, TimeUnit.SECONDS).servedBy()).isEqualTo("remote");
            assertThat(deltas.stream().filter(d -> d.tokenId() >= 0).mapToInt(TokenDelta::tokenId).toArray())
                    .as("streamed ids").containsExactly(here.completion().tokenIds());
            assertThat(deltas.getLast().isLast()).isTrue();

            GenerateRequest outside = GenerateRequest.ofTokens(new int[] {1, 100_000}, SamplingParams.greedy(4))
                    .withDeadline(Instant.now().plusSeconds(30));
            Throwable bad = catchThrowable(() -> router.submit("remote", outside).get(30, TimeUnit.SECONDS));
            assertThat(bad).as("a token id outside the vocabulary, refused by the worker's engine")
                    .isInstanceOf(ExecutionException.class).cause().isInstanceOf(InvalidRequestException.class);
            System.out.println("[worker] refused: " + bad.getCause().getMessage());
            assertThat(router.health("remote").orElseThrow().breakerState().name()).isEqualTo("CLOSED");

            assertThat(await(Duration.ofSeconds(5), () -> router.health("remote").orElseThrow().kvBlocksInUse() == 0))
                    .as("no KV block held in the worker").isTrue();
        }
    }

    @Test
    @Timeout(120)
    void aWorkerKilledMidStreamEndsThatStreamWithTheSignalAndIsRestarted() throws Exception {
        long pid;
        try (Router router = Router.start(config(50))) {
            // NOTE: a cold worker JVM's first probe can outlast the fixture's 500 ms on a loaded machine; the next
            // probe, 200 ms later, runs compiled code.
            assertThat(await(Duration.ofSeconds(20), () -> router.health().allReady())).as("%s", router.health())
                    .isTrue();
            ModelHealth before = router.health("remote").orElseThrow();
            pid = before.worker().pid();
            for (int i = 0; i < 3; i++) {
                // NOTE: a fresh worker's first probes run cold code; these bring its latency estimate down to its
                // 50 ms steps, so the router sends it a 60-token stream rather than skipping it as too slow.
                router.submit("remote", greedy("Once upon a time", 8)).get(30, TimeUnit.SECONDS);
            }

            RoutedStream rs = router.stream("chat", greedy("Once upon a time", 60));
            List<TokenDelta> got = new ArrayList<>();
            CompletableFuture<Throwable> ended = new CompletableFuture<>();
            rs.tokens().subscribe(recorder(got, ended));
            assertThat(rs.origin().get(30, TimeUnit.SECONDS).servedBy()).isEqualTo("remote");
            assertThat(await(Duration.ofSeconds(20), () -> got.size() >= 3)).as("streaming").isTrue();
            ProcessHandle.of(pid).orElseThrow().destroyForcibly();

            Throwable t = ended.get(20, TimeUnit.SECONDS);
            // NOTE: whichever sees the death first ends the stream: the worker's reader (its socket's EOF) or the
            // watchdog restarting the model (the process's exit); both say which worker died and how.
            assertThat(t).as("the stream ends with an error").isInstanceOfAny(WorkerLostException.class,
                    AttemptFailedException.class);
            assertThat(t.getMessage()).contains("remote", "pid " + pid, "SIGKILL");
            System.out.println("[worker] mid-stream: " + t.getMessage());

            RoutedCompletion during = router.submit("chat", greedy("Once upon a time", 4)).get(30, TimeUnit.SECONDS);
            assertThat(during.completion().tokenIds()).hasSize(4);

            assertThat(await(Duration.ofSeconds(60), () -> {
                ModelHealth h = router.health("remote").orElseThrow();
                return h.status() == HealthStatus.READY && h.generation() > before.generation();
            })).as("restarted: %s", router.health()).isTrue();
            ModelHealth after = router.health("remote").orElseThrow();
            assertThat(after.worker().pid()).isNotEqualTo(pid);
            RoutedCompletion again = router.submit("chat", greedy("Once upon a time", 4)).get(30, TimeUnit.SECONDS);
            assertThat(again.servedBy()).isEqualTo("remote");
            assertThat(again.degraded()).isFalse();
            pid = after.worker().pid();
        }
        long last = pid;
        assertThat(await(Duration.ofSeconds(5), () -> !running(last)))
                .as("the router's close ended its worker").isTrue();
    }

    @Test
    @Timeout(120)
    void aWorkerExitsWhenItsRouterIsKilled() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process router = new ProcessBuilder(java, "-Xmx256m", "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Dbulkhead.cache.dir=" + System.getProperty("bulkhead.cache.dir"),
                "-cp", System.getProperty("java.class.path"), RouterInChild.class.getName())
                .redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(router.getInputStream(), StandardCharsets.UTF_8))) {
            long pid = -1;
            for (String line; pid < 0 && (line = out.readLine()) != null; ) {
                if (line.startsWith("worker pid ")) {
                    pid = Long.parseLong(line.substring(11).strip());
                }
            }
            assertThat(pid).as("the child router started a worker").isPositive();
            ProcessHandle worker = ProcessHandle.of(pid).orElseThrow();
            assertThat(worker.parent().map(ProcessHandle::pid)).contains(router.pid());
            router.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            long t0 = System.nanoTime();
            // NOTE: polled, and a zombie counts as gone: the orphan's new parent may reap it late, and until then the
            // JDK still calls it alive.
            long orphan = pid;
            assertThat(await(Duration.ofSeconds(10), () -> !running(orphan))).as("the orphan exited").isTrue();
            System.out.printf("[worker] exited %d ms after its router was killed with SIGKILL%n",
                    (System.nanoTime() - t0) / 1_000_000);
        } finally {
            router.destroyForcibly();
        }
    }

    /** Whether {@code pid} runs: it exists and is not a zombie (Linux /proc; elsewhere the JDK's view). */
    static boolean running(long pid) {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        if (!java.nio.file.Files.exists(Path.of("/proc/self/stat"))) {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }
        try {
            String s = java.nio.file.Files.readString(stat);
            return s.charAt(s.lastIndexOf(')') + 2) != 'Z';
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static List<TokenDelta> collect(RoutedStream rs) throws Exception {
        List<TokenDelta> got = new ArrayList<>();
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        rs.tokens().subscribe(recorder(got, ended));
        assertThat(ended.get(30, TimeUnit.SECONDS)).isNull();
        return got;
    }

    private static Flow.Subscriber<TokenDelta> recorder(List<TokenDelta> got, CompletableFuture<Throwable> ended) {
        return new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(TokenDelta d) {
                synchronized (got) {
                    got.add(d);
                }
            }

            @Override
            public void onError(Throwable t) {
                ended.complete(t);
            }

            @Override
            public void onComplete() {
                ended.complete(null);
            }
        };
    }
}
