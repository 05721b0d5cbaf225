package dev.bulkhead.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Rebuilds the outage: four models behind one router under steady concurrent load; each fault class is injected
 * into one model (or the router) in turn and then removed. Prints a table per phase and model and asserts that
 * unaffected models keep answering (error rate below 0.1 %, p99 within 1.5x of the no-fault phase), that the
 * affected model's requests are served, by fallbacks marked degraded, within their deadline (at least 99 %),
 * that everything recovers after removal, and that no KV block is in use at the end.
 */
@Tag("chaos")
class RouterChaosTest {

    private static final Duration DEADLINE = Duration.ofSeconds(2);
    private static final long WINDOW_MILLIS = 8_000;
    private static final int MAX_TOKENS = 12;
    private static final int STEP_FLOOR_MILLIS = 4;
    private static final List<String> MODELS = List.of("large-v3", "large-v2", "large-v1", "small-v1");
    /** alias -> its primary model; the rows of the table are per primary model. */
    private static final Map<String, String> ALIASES = Map.of("large", "large-v3", "large-prev", "large-v2",
            "large-old", "large-v1", "small", "small-v1");

    private record Phase(String name, Fault fault, String target) {
    }

    private record Row(String phase, String model, boolean affected, int requests, int errors, int fallbacks,
                       double withinDeadline, double p50, double p99, long detectMs, long recoverMs) {
    }

    private static String alias(String model) {
        return ALIASES.entrySet().stream().filter(e -> e.getValue().equals(model)).findFirst().orElseThrow().getKey();
    }

    private static String routing(long version) {
        return """
                version: %d
                routes:
                  large:      {targets: [{model: large-v3}], fallbacks: [large-v2, small-v1, cache]}
                  large-prev: {targets: [{model: large-v2}], fallbacks: [large-v1, small-v1, cache]}
                  large-old:  {targets: [{model: large-v1}], fallbacks: [small-v1, cache]}
                  small:      {targets: [{model: small-v1}], fallbacks: [large-v1, cache]}
                """.formatted(version);
    }

    private static String config(long version) {
        StringBuilder models = new StringBuilder();
        for (String m : MODELS) {
            String src = m.equals("small-v1") ? RouterFixtures.stories()
                    : RouterFixtures.tinyCheckpoint(m, m.charAt(m.length() - 1));
            models.append("""
                      - name: %s
                        source: %s
                        memoryBudgetBytes: 8388608
                        engine: {threads: 1, kvCacheBytes: 1048576, maxModelLen: 128, maxRunning: 16}
                        breaker: {window: 20, minimumCalls: 10, failureRatePct: 50, slowCallMillis: 1000, openMillis: 1000, halfOpenCalls: 3}
                        health: {livenessTimeoutMillis: 1000, readinessIntervalMillis: 200, readinessTimeoutMillis: 500}
                    """.formatted(m, src));
        }
        return "nodeMemoryBytes: 268435456\nmodels:\n" + models + "routing:\n" + routing(version).indent(2)
                + """
                watchdog: {tickMillis: 25, maxRestarts: 3, backoffBaseMillis: 100, backoffMaxMillis: 1000, deadRetryMillis: 2000, reloadMillis: 100}
                policy: {defaultDeadlineMillis: 2000, attemptShare: 0.5, minAttemptMillis: 250, attemptSlack: 4, retryBudgetRatio: 0.5, retryBudgetBurst: 20}
                faults: {enabled: true, slowStepMillis: 150}
                """;
    }

    @Test
    void everyHealthyModelKeepsAnsweringWhileOneFails() throws Exception {
        Path file = Path.of("target", "chaos", "router.yaml").toAbsolutePath();
        Files.createDirectories(file.getParent());
        Files.writeString(file, config(1));
        List<Phase> phases = List.of(new Phase("baseline", null, null),
                new Phase("oom", Fault.OUT_OF_MEMORY, "large-v3"),
                new Phase("hung step", Fault.HUNG_STEP, "large-v2"),
                new Phase("step exception", Fault.STEP_EXCEPTION, "large-v1"),
                new Phase("corrupt table", Fault.CORRUPT_ROUTING_UPDATE, null),
                new Phase("readiness fails", Fault.READINESS_FAILURE, "small-v1"),
                new Phase("slow model", Fault.SLOW_STEPS, "large-v3"));
        List<Row> rows = new ArrayList<>();
        Map<String, Double> baselineP99 = new LinkedHashMap<>();
        long tableVersion = 1;
        try (Router router = Router.start(RouterConfigLoader.load(file), RouterFixtures.withStepFloor(STEP_FLOOR_MILLIS),
                new SimpleMeterRegistry())) {
            assertThat(router.health().allReady()).as("%s", router.health()).isTrue();
            ChaosLoad load = new ChaosLoad(router, List.copyOf(ALIASES.keySet()), 2, MAX_TOKENS, DEADLINE);
            try {
                Thread.sleep(5_000); // warm-up: JIT, and every (alias, prompt) answered once for the cache
                for (Phase p : phases) {
                    long t0 = System.nanoTime();
                    long firstUnhealthy = -1;
                    if (p.fault() == Fault.CORRUPT_ROUTING_UPDATE) {
                        router.faults().corruptRoutingUpdates(true);
                    } else if (p.fault() != null) {
                        router.faults().inject(p.target(), p.fault());
                    }
                    int rejectedUpdates = 0;
                    long nextUpdate = t0;
                    while (System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(WINDOW_MILLIS)) {
                        long now = System.nanoTime();
                        if (p.target() != null && firstUnhealthy < 0) {
                            ModelHealth h = router.health(p.target()).orElseThrow();
                            if (h.status() != HealthStatus.READY || h.breakerState() != CircuitBreaker.State.CLOSED) {
                                firstUnhealthy = now;
                            }
                        }
                        if (p.fault() == Fault.CORRUPT_ROUTING_UPDATE && now >= nextUpdate) {
                            TableUpdate u = router.updateRoutingTable(router.routingTable().withVersion(tableVersion + 1));
                            assertThat(u.accepted()).as("corrupted update %s", u).isFalse();
                            assertThat(u.activeVersion()).isEqualTo(tableVersion);
                            if (rejectedUpdates++ == 0) {
                                firstUnhealthy = System.nanoTime();
                                // A corrupt file on disk is rejected by hot reload the same way.
                                Files.writeString(file, config(tableVersion + 1).replace("model: large-v2}", "model: large-v9}"));
                            }
                            nextUpdate = now + TimeUnit.MILLISECONDS.toNanos(500);
                        }
                        Thread.sleep(10);
                    }
                    long t1 = System.nanoTime();
                    if (p.fault() == Fault.CORRUPT_ROUTING_UPDATE) {
                        assertThat(router.routingTable().version()).as("corrupt file was rejected").isEqualTo(tableVersion);
                        router.faults().corruptRoutingUpdates(false);
                        tableVersion++;
                        Files.writeString(file, config(tableVersion));
                    } else if (p.fault() != null) {
                        router.faults().clear(p.target(), p.fault());
                    }
                    long t2 = awaitRecovery(router, load, p, t1, tableVersion);
                    Thread.sleep(1_000);
                    if (p.target() != null) {
                        List<ChaosLoad.Sample> after = load.between(t2, System.nanoTime()).stream()
                                .filter(s -> ALIASES.get(s.alias()).equals(p.target())).toList();
                        assertThat(after).as("%s: requests after recovery", p.name()).isNotEmpty()
                                .allMatch(s -> s.ok() && !s.degraded() && s.servedBy().equals(p.target()));
                    }
                    rows.addAll(rowsOf(p, load, t0, t1, firstUnhealthy, t2));
                    if (p.fault() == null) {
                        rows.forEach(r -> baselineP99.put(r.model(), r.p99()));
                    }
                }
            } finally {
                load.close();
            }
            assertThat(RouterFixtures.await(Duration.ofSeconds(15), () -> router.health().models().values().stream()
                    .allMatch(m -> m.kvBlocksInUse() == 0 && m.inFlight() == 0 && m.queued() == 0
                            && m.status() == HealthStatus.READY))).as("idle at the end: %s", router.health()).isTrue();
            String table = print(rows);
            System.out.println(table);
            Files.writeString(Path.of("target", "chaos", "chaos-table.txt"), table);
            Map<String, Long> reserved = router.memory().reservedByModel();
            assertThat(reserved).as("every stuck engine was reaped").hasSize(4);
            for (ModelHealth m : router.health().models().values()) {
                assertThat(m.kvBlocksInUse()).isZero();
            }
        }
        for (Row r : rows) {
            if (r.phase().equals("baseline")) {
                assertThat(r.errors()).as("baseline errors of %s", r.model()).isZero();
                continue;
            }
            if (r.affected()) {
                assertThat(r.withinDeadline()).as("%s/%s served within deadline", r.phase(), r.model()).isGreaterThanOrEqualTo(0.99);
                assertThat(r.fallbacks()).as("%s/%s served by fallbacks", r.phase(), r.model()).isPositive();
            } else {
                assertThat(r.errors() * 1000L).as("%s/%s error rate below 0.1%%", r.phase(), r.model()).isLessThan(r.requests());
                assertThat(r.p99()).as("%s/%s p99 within 1.5x of baseline %.1f ms", r.phase(), r.model(),
                        baselineP99.get(r.model())).isLessThanOrEqualTo(1.5 * baselineP99.get(r.model()));
            }
        }
    }

    /** Waits until the phase's fault is gone from the router's point of view; returns when that happened. */
    private static long awaitRecovery(Router router, ChaosLoad load, Phase p, long t1, long tableVersion)
            throws InterruptedException {
        boolean ok = RouterFixtures.await(Duration.ofSeconds(20), () -> {
            if (p.fault() == Fault.CORRUPT_ROUTING_UPDATE) {
                return router.routingTable().version() == tableVersion;
            }
            if (p.target() == null) {
                return true;
            }
            ModelHealth h = router.health(p.target()).orElseThrow();
            return h.status() == HealthStatus.READY && h.breakerState() == CircuitBreaker.State.CLOSED
                    && load.endedAfter(t1).stream().anyMatch(s -> s.startNanos() >= t1 && s.ok() && !s.degraded()
                    && s.servedBy().equals(p.target()));
        });
        assertThat(ok).as("%s recovered: %s", p.name(), router.health()).isTrue();
        return System.nanoTime();
    }

    private static List<Row> rowsOf(Phase p, ChaosLoad load, long t0, long t1, long firstUnhealthy, long t2) {
        List<Row> rows = new ArrayList<>();
        List<ChaosLoad.Sample> window = load.between(t0, t1);
        for (String model : MODELS) {
            String alias = alias(model);
            List<ChaosLoad.Sample> s = window.stream().filter(x -> x.alias().equals(alias)).toList();
            boolean affected = model.equals(p.target());
            long detect = -1;
            long recover = -1;
            if (p.fault() != null && (affected || p.target() == null)) {
                long firstDegraded = s.stream().filter(x -> !x.ok() || x.degraded()).mapToLong(ChaosLoad.Sample::endNanos)
                        .min().orElse(Long.MAX_VALUE);
                long first = Math.min(firstDegraded, firstUnhealthy < 0 ? Long.MAX_VALUE : firstUnhealthy);
                detect = first == Long.MAX_VALUE ? -1 : (first - t0) / 1_000_000;
                recover = (t2 - t1) / 1_000_000;
            }
            double[] ms = s.stream().filter(ChaosLoad.Sample::ok).mapToDouble(ChaosLoad.Sample::millis).sorted().toArray();
            rows.add(new Row(p.name() + (p.fault() == null ? "" : " (" + p.fault() + (p.target() == null ? ", router)"
                    : " in " + p.target() + ")")), model, affected, s.size(), (int) s.stream().filter(x -> !x.ok()).count(),
                    (int) s.stream().filter(ChaosLoad.Sample::degraded).count(),
                    s.isEmpty() ? 1 : (double) s.stream().filter(ChaosLoad.Sample::withinDeadline).count() / s.size(),
                    pct(ms, 0.50), pct(ms, 0.99), detect, recover));
        }
        return rows;
    }

    private static double pct(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    private static String print(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%n| phase | model | requests | errors | error rate | served by fallback "
                + "| in deadline | p50 ms | p99 ms | detect ms | recover ms |%n"));
        sb.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | %s%s | %d | %d | %.2f%% | %d | %.1f%% | %.1f | %.1f | %s | %s |%n",
                    r.phase(), r.model(), r.affected() ? " (affected)" : "", r.requests(), r.errors(),
                    r.requests() == 0 ? 0.0 : 100.0 * r.errors() / r.requests(), r.fallbacks(), 100 * r.withinDeadline(),
                    r.p50(), r.p99(), r.detectMs() < 0 ? "" : Long.toString(r.detectMs()),
                    r.recoverMs() < 0 ? "" : Long.toString(r.recoverMs())));
        }
        return sb.toString();
    }
}
