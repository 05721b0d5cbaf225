package dev.bulkhead.router;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.router.ipc.MeterSnapshot;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The cache between a registry and a worker's meters, against fake workers and a fake clock: one question per
 * interval however many reads, a bounded wait on a hung worker with no question piling up behind another, NaN
 * gauges for a dead, silent or absent worker while counts stay true, a restarted worker's own counts, and the
 * bridge showing it all in a registry under the worker's ids.
 */
class WorkerMeterCacheTest {

    private static final Duration INTERVAL = Duration.ofSeconds(1);
    private static final long TIMEOUT_MILLIS = 100;
    private static final Meter.Id RUNNING = new Meter.Id("vllm:num_requests_running", Tags.of("model_name", "w"), null,
            null, Meter.Type.GAUGE);
    private static final Meter.Id TOKENS = new Meter.Id("bulkhead.generation_tokens", Tags.of("model", "w"), null,
            null, Meter.Type.COUNTER);
    private static final Meter.Id TTFT = new Meter.Id("bulkhead.time_to_first_token", Tags.of("model", "w"), null,
            null, Meter.Type.TIMER);

    /** A worker whose answers the test scripts: by default its {@code running} and {@code tokens}, at once. */
    private static final class FakeWorker implements WorkerMeterCache.Worker {
        final AtomicInteger asked = new AtomicInteger();
        final AtomicInteger unanswered = new AtomicInteger();
        volatile boolean running = true;
        volatile boolean hung;
        volatile double runningRequests;
        volatile double tokens;
        final List<CompletableFuture<MeterSnapshot>> held = new ArrayList<>();

        @Override
        public synchronized CompletableFuture<MeterSnapshot> meters(long timeoutMillis) {
            asked.incrementAndGet();
            if (!running) {
                return CompletableFuture.failedFuture(new WorkerLostException("worker of w exited"));
            }
            if (hung) {
                // NOTE: never completed, not even by a timeout: the cache must bound its wait on its own.
                CompletableFuture<MeterSnapshot> f = new CompletableFuture<>();
                held.add(f);
                unanswered.incrementAndGet();
                return f;
            }
            return CompletableFuture.completedFuture(snapshot());
        }

        MeterSnapshot snapshot() {
            return new MeterSnapshot(Map.of(RUNNING, new MeterSnapshot.Reading(RUNNING, runningRequests, 0),
                    TOKENS, new MeterSnapshot.Reading(TOKENS, tokens, 0),
                    TTFT, new MeterSnapshot.Reading(TTFT, tokens * 1e6, (long) tokens)));
        }

        synchronized void answerLate() {
            held.forEach(f -> f.complete(snapshot()));
            held.clear();
        }

        @Override
        public boolean isRunning() {
            return running;
        }
    }

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final AtomicReference<FakeWorker> current = new AtomicReference<>();

    private WorkerMeterCache cache() {
        return new WorkerMeterCache(current::get, INTERVAL, TIMEOUT_MILLIS, now::get);
    }

    private void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    @Test
    @Timeout(30)
    void manyReadersAskTheWorkerOncePerInterval() throws Exception {
        FakeWorker w = new FakeWorker();
        w.runningRequests = 2;
        w.tokens = 10;
        current.set(w);
        WorkerMeterCache cache = cache();
        int threads = 8;
        CountDownLatch done = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++) {
            Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 200; i++) {
                    cache.gauge(RUNNING);
                    cache.count(TOKENS);
                }
                done.countDown();
            });
        }
        assertThat(done.await(20, TimeUnit.SECONDS)).isTrue();
        assertThat(w.asked.get()).as("3200 reads within one interval").isEqualTo(1);
        assertThat(cache.gauge(RUNNING)).isEqualTo(2);

        w.runningRequests = 1;
        w.tokens = 17;
        advance(INTERVAL.minusMillis(1));
        assertThat(cache.gauge(RUNNING)).as("still the last interval's answer").isEqualTo(2);
        assertThat(w.asked.get()).isEqualTo(1);
        advance(Duration.ofMillis(1));
        assertThat(cache.gauge(RUNNING)).isEqualTo(1);
        assertThat(cache.count(TOKENS)).isEqualTo(17);
        assertThat(cache.timerCount(TTFT)).isEqualTo(17);
        assertThat(cache.timerNanos(TTFT)).isEqualTo(17e6);
        assertThat(w.asked.get()).isEqualTo(2);
    }

    @Test
    @Timeout(30)
    void aHungWorkerCostsAScrapeOneTimeoutPerIntervalAndNeverMoreThanOneQuestion() throws Exception {
        FakeWorker w = new FakeWorker();
        w.tokens = 40;
        current.set(w);
        WorkerMeterCache cache = cache();
        assertThat(cache.count(TOKENS)).isEqualTo(40);
        w.hung = true;
        advance(INTERVAL);

        // One scrape reads 30 meters from 4 threads at once: together they wait for one question, not 30 or 120.
        long start = System.nanoTime();
        List<Thread> scrapers = new ArrayList<>();
        List<Double> gauges = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Double> counts = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < 4; t++) {
            scrapers.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 15; i++) {
                    gauges.add(cache.gauge(RUNNING));
                    counts.add(cache.count(TOKENS));
                }
            }));
        }
        for (Thread t : scrapers) {
            t.join();
        }
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(tookMillis).as("waited about one timeout (%d ms), not one per meter", TIMEOUT_MILLIS)
                .isBetween(TIMEOUT_MILLIS - 10, 5 * TIMEOUT_MILLIS);
        assertThat(gauges).as("a gauge it did not answer for is unknown").allMatch(g -> g.isNaN());
        assertThat(counts).as("a count it gave stays true").allMatch(c -> c == 40);
        assertThat(w.unanswered.get()).isEqualTo(1);

        // Later intervals ask again, one question each, only once the last one settled (it timed out).
        int threadsBefore = Thread.getAllStackTraces().size();
        for (int i = 0; i < 5; i++) {
            advance(INTERVAL);
            for (int j = 0; j < 10; j++) {
                assertThat(cache.gauge(RUNNING)).isNaN();
            }
        }
        assertThat(w.unanswered.get()).as("one question per interval").isEqualTo(6);
        assertThat(Thread.getAllStackTraces().size()).as("no thread per question").isLessThanOrEqualTo(threadsBefore + 1);
        start = System.nanoTime();
        for (int j = 0; j < 100; j++) {
            cache.gauge(RUNNING);
        }
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("within an interval: no wait at all")
                .isLessThan(TIMEOUT_MILLIS / 2);

        // It recovers: a late answer is not taken for a fresh one, the next interval's answer is.
        w.runningRequests = 3;
        w.answerLate();
        assertThat(cache.gauge(RUNNING)).isNaN();
        w.hung = false;
        advance(INTERVAL);
        assertThat(cache.gauge(RUNNING)).isEqualTo(3);
    }

    @Test
    void aDeadOrAbsentWorkerReadsNaNGaugesAndARestartedOneItsOwnCounts() {
        FakeWorker first = new FakeWorker();
        first.runningRequests = 1;
        first.tokens = 100;
        current.set(first);
        WorkerMeterCache cache = cache();
        assertThat(cache.gauge(RUNNING)).isEqualTo(1);

        first.running = false;
        assertThat(cache.gauge(RUNNING)).as("dead, within the interval of its last answer").isNaN();
        advance(INTERVAL);
        assertThat(cache.gauge(RUNNING)).as("dead, asked again").isNaN();
        assertThat(cache.count(TOKENS)).as("its last count").isEqualTo(100);

        current.set(null);
        assertThat(cache.gauge(RUNNING)).as("restarting: no worker").isNaN();
        assertThat(cache.count(TOKENS)).isZero();
        assertThat(cache.timerCount(TTFT)).isZero();
        assertThat(cache.timerNanos(TTFT)).isZero();

        FakeWorker second = new FakeWorker();
        second.tokens = 4;
        second.hung = true;
        current.set(second);
        assertThat(cache.count(TOKENS)).as("the new worker has not answered yet: not the old one's count").isZero();
        assertThat(cache.gauge(RUNNING)).isNaN();
        second.hung = false;
        advance(INTERVAL);
        assertThat(cache.count(TOKENS)).isEqualTo(4);
        assertThat(cache.gauge(RUNNING)).isZero();
        assertThat(cache.gauge(new Meter.Id("bulkhead.unknown", Tags.empty(), null, null, Meter.Type.GAUGE)))
                .as("a meter the worker does not have").isNaN();
    }

    @Test
    @Timeout(30)
    void aNewWorkerListsItsMetersOrNothingWhenItDoesNotAnswer() {
        FakeWorker w = new FakeWorker();
        WorkerMeterCache cache = cache();
        assertThat(cache.discover(w, 1_000)).containsExactlyInAnyOrder(RUNNING, TOKENS, TTFT);
        FakeWorker silent = new FakeWorker();
        silent.hung = true;
        long start = System.nanoTime();
        assertThat(cache.discover(silent, 150)).isEmpty();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(140L, 2_000L);
        FakeWorker dead = new FakeWorker();
        dead.running = false;
        assertThat(cache.discover(dead, 1_000)).isEmpty();
    }

    @Test
    void bridgedMetersReadTheWorkerUnderItsIdsAndLeaveWithTheBridge() {
        FakeWorker w = new FakeWorker();
        w.runningRequests = 5;
        w.tokens = 12;
        current.set(w);
        WorkerMeterCache cache = cache();
        SimpleMeterRegistry user = new SimpleMeterRegistry();
        try (EngineMeterBridge bridge = new EngineMeterBridge(user, cache)) {
            bridge.bridge(cache.discover(w, 1_000));
            bridge.bridge(cache.discover(w, 1_000));
            assertThat(user.getMeters()).as("once each").hasSize(3);
            Gauge running = user.find("vllm:num_requests_running").tag("model_name", "w").gauge();
            FunctionCounter tokens = user.find("bulkhead.generation_tokens").tag("model", "w").functionCounter();
            FunctionTimer ttft = user.find("bulkhead.time_to_first_token").tag("model", "w").functionTimer();
            assertThat(running.value()).isEqualTo(5);
            assertThat(tokens.count()).isEqualTo(12);
            assertThat(ttft.count()).isEqualTo(12);
            assertThat(ttft.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(12);
            current.set(null);
            assertThat(running.value()).isNaN();
            assertThat(tokens.count()).isZero();
        }
        assertThat(user.getMeters()).isEmpty();
    }
}
