package dev.bulkhead.router;

import java.util.Objects;

/**
 * One model the router serves.
 *
 * @param name              unique name, used in routes
 * @param source            what {@code ModelLoader.load} accepts (a checkpoint directory, .gguf, ...); null or
 *                          blank for the embedded stories260K
 * @param memoryBudgetBytes the most this model may hold: mapped weights plus its KV pool; 0 means exactly what it
 *                          needs (it is then only checked against the node's free memory)
 * @param engine            engine sizing
 * @param queue             admission limits per priority class
 * @param breaker           circuit breaker settings
 * @param health            liveness and readiness settings
 * @param isolation         where its engine runs; null means the router's default ({@link Isolation#IN_PROCESS} for
 *                          {@link Router#start}, {@link Isolation#PROCESS} for {@code serve --config})
 * @param worker            how its worker process runs, when isolation is {@link Isolation#PROCESS}
 */
public record ModelSpec(String name, String source, long memoryBudgetBytes, EngineSpec engine, QueueLimits queue,
                        BreakerSpec breaker, HealthSpec health, Isolation isolation, WorkerSpec worker) {

    public ModelSpec {
        Objects.requireNonNull(name, "model name");
        if (name.isBlank() || name.equals(Route.CACHE)) {
            throw new IllegalArgumentException("model name must be non-blank and not '" + Route.CACHE + "', got '"
                    + name + "'");
        }
        if (memoryBudgetBytes < 0) {
            throw new IllegalArgumentException("memoryBudgetBytes of model " + name + " must be >= 0, got "
                    + memoryBudgetBytes);
        }
        engine = engine == null ? EngineSpec.defaults() : engine;
        queue = queue == null ? QueueLimits.defaults() : queue;
        breaker = breaker == null ? BreakerSpec.defaults() : breaker;
        health = health == null ? HealthSpec.defaults() : health;
        worker = worker == null ? WorkerSpec.defaults() : worker;
    }

    /** A model whose isolation is the router's default. */
    public ModelSpec(String name, String source, long memoryBudgetBytes, EngineSpec engine, QueueLimits queue,
                     BreakerSpec breaker, HealthSpec health) {
        this(name, source, memoryBudgetBytes, engine, queue, breaker, health, null, null);
    }

    /** A model with default settings. */
    public static ModelSpec of(String name, String source) {
        return new ModelSpec(name, source, 0, null, null, null, null);
    }

    public ModelSpec withMemoryBudget(long bytes) {
        return new ModelSpec(name, source, bytes, engine, queue, breaker, health, isolation, worker);
    }

    public ModelSpec withEngine(EngineSpec e) {
        return new ModelSpec(name, source, memoryBudgetBytes, e, queue, breaker, health, isolation, worker);
    }

    public ModelSpec withQueue(QueueLimits q) {
        return new ModelSpec(name, source, memoryBudgetBytes, engine, q, breaker, health, isolation, worker);
    }

    public ModelSpec withBreaker(BreakerSpec b) {
        return new ModelSpec(name, source, memoryBudgetBytes, engine, queue, b, health, isolation, worker);
    }

    public ModelSpec withHealth(HealthSpec h) {
        return new ModelSpec(name, source, memoryBudgetBytes, engine, queue, breaker, h, isolation, worker);
    }

    public ModelSpec withIsolation(Isolation i) {
        return new ModelSpec(name, source, memoryBudgetBytes, engine, queue, breaker, health, i, worker);
    }

    public ModelSpec withWorker(WorkerSpec w) {
        return new ModelSpec(name, source, memoryBudgetBytes, engine, queue, breaker, health, isolation, w);
    }
}
