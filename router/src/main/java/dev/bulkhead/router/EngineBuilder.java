package dev.bulkhead.router;

import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.model.ModelLoader;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * Builds one model's engines, in this JVM or as a worker process, each with its memory reserved in the node's
 * ledger first. For a worker it keeps one mapping of the checkpoint in the router, for the tokenizer, chat template
 * and config the HTTP layer needs; the router never reads its weights.
 */
final class EngineBuilder implements AutoCloseable {

    /**
     * What worker processes share: how to start them, where their sockets live, drills, metrics, and whether their
     * engine meters are bridged into the router's registry (off for a caller that merges each worker's own
     * Prometheus text instead).
     */
    record Workers(WorkerLauncher launcher, WorkerDirectory dir, FaultSpec faults, RouterMetrics metrics,
                   boolean bridgeMeters) {
    }

    /** An engine and the memory reserved for it. */
    record Built(SlotEngine engine, MemoryLedger.Reservation reservation) {
    }

    private final ModelSpec spec;
    private final MemoryLedger ledger;
    private final ModelRunnerFactory runners;
    private final Workers workers;
    private LoadedModel catalog;
    private int spawned;

    /**
     * @param runners runners of an in-process engine (drills included)
     * @param workers how to run worker processes; only used when the model's isolation is {@link Isolation#PROCESS}
     */
    EngineBuilder(ModelSpec spec, MemoryLedger ledger, ModelRunnerFactory runners, Workers workers) {
        this.spec = spec;
        this.ledger = ledger;
        this.runners = runners;
        this.workers = workers;
    }

    boolean isProcess() {
        return spec.isolation() == Isolation.PROCESS;
    }

    Built build() throws InterruptedException {
        return isProcess() ? worker() : local();
    }

    private Built local() {
        LoadedModel model = ModelLoader.load(spec.source());
        MemoryLedger.Reservation r = null;
        try {
            // NOTE: the runner's host copies of weights (the CPU's Q4_0, Q4_K and Q6_K repacks) count too.
            r = ledger.reserve(spec.name(), model.weights().byteSize() + runners.hostWeightBytes(model.weights()),
                    spec.engine().kvCacheBytes(), spec.memoryBudgetBytes());
            // NOTE: a registry per engine: the engine's gauges hold its loop, so a shared registry would keep every
            // replaced engine (and its KV pool) reachable after a restart. EngineMeterBridge shows the current
            // engine's meters in the user's registry. Named after the model, so its meters carry model=<name>.
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            LlmEngine e = new LlmEngine(spec.name(), model, spec.engine().options(), meters, runners);
            return new Built(new LocalEngine(e, meters), r);
        } catch (Throwable t) {
            if (r != null) {
                ledger.release(r);
            }
            model.close();
            throw t;
        }
    }

    private Built worker() throws InterruptedException {
        LoadedModel model = catalog();
        long weights = model.weights().byteSize();
        boolean gpu = workers.launcher().device().startsWith("cuda");
        // NOTE: a CPU worker's runner keeps copies of some weights off the heap (the Q4_0, Q4_K and Q6_K repacks).
        long copies = gpu ? 0 : ModelRunnerFactory.CPU.hostWeightBytes(model.weights());
        MemoryLedger.Reservation r = ledger.reserve(spec.name(), weights + copies, spec.engine().kvCacheBytes(),
                spec.memoryBudgetBytes());
        try {
            long heap = spec.worker().heapFor(weights, gpu ? 0 : spec.engine().kvCacheBytes());
            String id = fileName(spec.name()) + "-" + nextSpawn();
            return new Built(WorkerEngine.start(spec, workers.launcher(), workers.faults(), workers.dir(), id, heap,
                    model, workers.metrics()), r);
        } catch (Throwable t) {
            ledger.release(r);
            throw t;
        }
    }

    private synchronized int nextSpawn() {
        return ++spawned;
    }

    /** The router's own mapping of the checkpoint (loaded once), for a worker-process model. */
    synchronized LoadedModel catalog() {
        if (catalog == null) {
            catalog = ModelLoader.load(spec.source());
        }
        return catalog;
    }

    /** Whether the catalog is loaded (it then outlives restarts). */
    synchronized boolean hasCatalog() {
        return catalog != null;
    }

    /** A name safe in a socket path (short: a Unix socket path holds about 100 bytes). */
    private static String fileName(String model) {
        String s = model.replaceAll("[^A-Za-z0-9._-]", "_");
        return s.length() > 32 ? s.substring(0, 32) : s;
    }

    @Override
    public synchronized void close() {
        if (catalog != null) {
            catalog.close();
            catalog = null;
        }
    }
}
