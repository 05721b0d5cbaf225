package dev.bulkhead.router;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The router's meters: answers by alias, server and degradation, rejections by reason, table updates; per worker
 * process its exits by cause and the time a delta takes from the worker's engine to the router.
 */
final class RouterMetrics {

    private final MeterRegistry registry;
    private final Map<String, Timer> ipc = new ConcurrentHashMap<>();

    RouterMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void served(String alias, String by, boolean degraded) {
        Counter.builder("bulkhead.router.requests").tag("alias", alias).tag("served_by", by)
                .tag("degraded", Boolean.toString(degraded)).register(registry).increment();
    }

    void rejected(String alias, RouterRejectedException.Reason reason) {
        Counter.builder("bulkhead.router.rejections").tag("alias", alias)
                .tag("reason", reason.name().toLowerCase(Locale.ROOT)).register(registry).increment();
    }

    void tableUpdate(boolean accepted) {
        Counter.builder("bulkhead.router.table_updates").tag("accepted", Boolean.toString(accepted))
                .register(registry).increment();
    }

    void workerExit(String model, String cause) {
        Counter.builder("bulkhead.worker.exits").tag("model", model).tag("cause", cause)
                .description("Worker processes that ended, by cause").register(registry).increment();
    }

    /** A delta's trip from the worker's engine to the router's reader (host monotonic clock). */
    void ipcLatency(String model, long nanos) {
        ipc.computeIfAbsent(model, m -> Timer.builder("bulkhead.worker.ipc").tag("model", m)
                .description("Time from a worker's engine emitting a delta to the router reading it")
                .publishPercentiles(0.5, 0.99).register(registry)).record(Math.max(0, nanos), TimeUnit.NANOSECONDS);
    }

    MeterRegistry registry() {
        return registry;
    }

    /** {@code bulkhead.worker.up} and {@code bulkhead.worker.rss_bytes} of a model's worker process, whichever runs. */
    void workerGauges(String model, java.util.function.Supplier<WorkerEngine> worker) {
        io.micrometer.core.instrument.Gauge.builder("bulkhead.worker.up", () -> {
            WorkerEngine w = worker.get();
            return w != null && w.isRunning() ? 1 : 0;
        }).tag("model", model).description("1 while the model's worker process serves").register(registry);
        io.micrometer.core.instrument.Gauge.builder("bulkhead.worker.rss", () -> {
            WorkerEngine w = worker.get();
            return w == null ? Double.NaN : w.status().rssBytes();
        }).tag("model", model).baseUnit("bytes").description("Resident set of the model's worker process")
                .register(registry);
    }
}
