package dev.bulkhead.router;

import dev.bulkhead.router.ipc.MeterSnapshot;
import io.micrometer.core.instrument.Meter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * A worker model's engine meters as last read from its worker process, for {@link EngineMeterBridge}. A registry
 * reads meters one by one; this asks the worker (STATS_REQ) at most once per interval, however many meters and
 * readers there are, and waits for the answer only until that question's timeout, so a scrape that meets a slow or
 * hung worker waits at most one timeout per interval and no question piles up behind another. It starts no thread.
 *
 * <p>A gauge shows the latest answer only while it is the answer to the latest question and the worker still
 * serves: NaN while there is no worker (restarting), once it died, or when it did not answer in time. Counters and
 * timers keep their last count from the same worker (a count only grows, so an old one is still true), and read 0
 * under a new worker until it answered, as after an in-process restart.
 */
final class WorkerMeterCache implements EngineMeterSource {

    /** What the cache needs of a worker process ({@link WorkerEngine}). */
    interface Worker {
        /** Its engine's meters now; the future fails when it is gone or did not answer in {@code timeoutMillis}. */
        CompletableFuture<MeterSnapshot> meters(long timeoutMillis);

        /** Whether it still serves. */
        boolean isRunning();
    }

    /**
     * What a worker answered.
     *
     * @param worker   who was asked
     * @param snapshot its latest answer, or null when it never answered
     * @param fresh    whether {@code snapshot} answers the latest question
     */
    record Readings(Worker worker, MeterSnapshot snapshot, boolean fresh) {
    }

    /** One question: to whom, when, and its outcome once answered or timed out. */
    private record Question(Worker worker, long askedNanos, CompletableFuture<Readings> outcome) {
    }

    private final Supplier<? extends Worker> current;
    private final long intervalNanos;
    private final long timeoutMillis;
    private final LongSupplier clock;
    private final AtomicReference<Question> last = new AtomicReference<>();
    private volatile Readings latest;

    /**
     * @param current       the model's worker now, or null while it has none
     * @param interval      the least time between two questions to the same worker
     * @param timeoutMillis how long a question is waited for
     * @param clock         {@link System#nanoTime()}, or a test's clock
     */
    WorkerMeterCache(Supplier<? extends Worker> current, Duration interval, long timeoutMillis,
                     LongSupplier clock) {
        if (interval.isNegative() || timeoutMillis < 1) {
            throw new IllegalArgumentException("interval " + interval + " and timeout " + timeoutMillis
                    + " ms: the interval must not be negative and the timeout at least 1 ms");
        }
        this.current = current;
        this.intervalNanos = interval.toNanos();
        this.timeoutMillis = timeoutMillis;
        this.clock = clock;
    }

    /**
     * Asks {@code worker} for its meters right away, waiting up to {@code waitMillis}: a new worker's meter ids, so
     * that they can be bridged before anyone reads them. Empty when it did not answer.
     */
    List<Meter.Id> discover(Worker worker, long waitMillis) {
        Question q = new Question(worker, clock.getAsLong(), new CompletableFuture<>());
        last.set(q);
        send(q, waitMillis);
        Readings r = await(q, TimeUnit.MILLISECONDS.toNanos(waitMillis));
        return r == null || r.snapshot() == null ? List.of() : List.copyOf(r.snapshot().readings().keySet());
    }

    /** The current worker's readings, asking it first when the last question is an interval old; null: no worker. */
    Readings read() {
        Worker w = current.get();
        if (w == null) {
            return null;
        }
        long now = clock.getAsLong();
        Question q = last.get();
        // NOTE: a new question only once the last one is answered or timed out, so a hung worker has at most one.
        if (q == null || q.worker() != w || (q.outcome().isDone() && now - q.askedNanos() >= intervalNanos)) {
            Question next = new Question(w, now, new CompletableFuture<>());
            if (last.compareAndSet(q, next)) {
                send(next, timeoutMillis);
            }
            q = last.get();
        }
        long left = q.askedNanos() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis) - now;
        Readings r = await(q, Math.clamp(left, 0, TimeUnit.MILLISECONDS.toNanos(timeoutMillis)));
        if (r == null) {
            Readings before = latest;
            return before != null && before.worker() == w ? new Readings(w, before.snapshot(), false)
                    : new Readings(w, null, false);
        }
        return r;
    }

    /** Sends {@code q}; its outcome settles within {@code waitMillis}, and becomes the latest readings. */
    private void send(Question q, long waitMillis) {
        Worker w = q.worker();
        CompletableFuture<MeterSnapshot> asked;
        try {
            asked = w.meters(waitMillis);
        } catch (RuntimeException e) {
            asked = CompletableFuture.failedFuture(e);
        }
        // NOTE: our own bound too, on a copy: the answer settles in time even from a worker whose future never does.
        asked.copy().orTimeout(waitMillis, TimeUnit.MILLISECONDS).handle((s, e) -> {
            Readings before = latest;
            Readings r = s != null ? new Readings(w, s, true)
                    : new Readings(w, before != null && before.worker() == w ? before.snapshot() : null, false);
            latest = r;
            return r;
        }).thenAccept(q.outcome()::complete);
    }

    private static Readings await(Question q, long nanos) {
        Readings done = q.outcome().getNow(null);
        if (done != null || nanos <= 0) {
            return done;
        }
        try {
            return q.outcome().get(nanos, TimeUnit.NANOSECONDS);
        } catch (TimeoutException | ExecutionException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    @Override
    public double gauge(Meter.Id id) {
        Readings r = read();
        MeterSnapshot.Reading v = r == null || !r.fresh() || !r.worker().isRunning() ? null : r.snapshot().get(id);
        return v == null ? Double.NaN : v.value();
    }

    @Override
    public double count(Meter.Id id) {
        MeterSnapshot.Reading v = counted(id);
        return v == null ? 0 : v.value();
    }

    @Override
    public long timerCount(Meter.Id id) {
        MeterSnapshot.Reading v = counted(id);
        return v == null ? 0 : v.count();
    }

    @Override
    public double timerNanos(Meter.Id id) {
        MeterSnapshot.Reading v = counted(id);
        return v == null ? 0 : v.value();
    }

    private MeterSnapshot.Reading counted(Meter.Id id) {
        Readings r = read();
        return r == null || r.snapshot() == null ? null : r.snapshot().get(id);
    }
}
