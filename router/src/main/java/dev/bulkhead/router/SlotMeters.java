package dev.bulkhead.router;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One model's engine meters in the user's registry, whichever engine serves it: an in-process engine's read from
 * its own registry, a worker process's through a {@link WorkerMeterCache}. Each new engine's meters are bridged
 * once; those bridged for an earlier engine of the model read the new one.
 */
final class SlotMeters implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SlotMeters.class);
    // NOTE: a worker's meters are asked for at most once a second, and a registry read waits at most 250 ms for
    // them; a new worker lists its meters within 2 s of reporting ready (it answers in microseconds when healthy).
    private static final Duration WORKER_INTERVAL = Duration.ofSeconds(1);
    private static final long WORKER_TIMEOUT_MILLIS = 250;
    private static final long WORKER_DISCOVERY_MILLIS = 2_000;

    private final String model;
    private final WorkerMeterCache workers;
    private final EngineMeterBridge bridge;

    /**
     * @param model          the model's name
     * @param process        whether its engines run in worker processes
     * @param bridgeWorkers  whether a worker's meters are bridged at all (off when the caller merges their text)
     * @param registry       the user's registry
     * @param engine         the model's engine now, or null while it has none
     */
    SlotMeters(String model, boolean process, boolean bridgeWorkers, MeterRegistry registry,
               Supplier<SlotEngine> engine) {
        this.model = model;
        this.workers = process && bridgeWorkers ? new WorkerMeterCache(() -> {
            SlotEngine e = engine.get();
            return e == null ? null : e.worker();
        }, WORKER_INTERVAL, WORKER_TIMEOUT_MILLIS, System::nanoTime) : null;
        this.bridge = new EngineMeterBridge(registry, process ? workers : new RegistryMeterSource(() -> {
            SlotEngine e = engine.get();
            return e == null ? null : e.engineMeters();
        }));
    }

    /** Bridges a new engine's meters (a worker's are asked for once, bounded, on the caller's thread). */
    void engineStarted(SlotEngine e) {
        if (e.engineMeters() != null) {
            bridge.bridge(EngineMeterBridge.idsOf(e.engineMeters()));
        } else if (e.worker() != null && workers != null) {
            List<Meter.Id> ids = workers.discover(e.worker(), WORKER_DISCOVERY_MILLIS);
            if (ids.isEmpty()) {
                LOG.warn("the worker of {} did not list its engine meters within {} ms; those not bridged before stay"
                        + " out of the registry until its next start", model, WORKER_DISCOVERY_MILLIS);
            }
            bridge.bridge(ids);
        }
    }

    /** Removes the bridged meters from the user's registry. */
    @Override
    public void close() {
        bridge.close();
    }
}
