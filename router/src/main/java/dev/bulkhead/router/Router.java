package dev.bulkhead.router;

import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.TokenStream;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.model.LoadedModel;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The thin router: several models in one process, each with its own engine loop, queue, memory budget, breaker
 * and health, behind an immutable versioned routing table with fallback chains. A failing model is restarted
 * alone and its traffic served by its fallbacks, marked degraded; the others keep answering.
 *
 * <pre>{@code
 * try (Router router = Router.start(RouterConfigLoader.load(Path.of("router.yaml")))) {
 *     RoutedCompletion r = router.submit("large", GenerateRequest.of("Once upon a time", SamplingParams.greedy(16)))
 *             .join();
 *     System.out.println(r.servedBy() + (r.degraded() ? " (degraded)" : "") + ": " + r.completion().text());
 * }
 * }</pre>
 */
public final class Router implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Router.class);
    // NOTE: how long start() waits for first readiness; a model not ready by then keeps loading on its own.
    private static final long STARTUP_WAIT_MILLIS = 30_000;

    private final RouterConfig config;
    private final MemoryLedger ledger;
    private final FaultInjector faults;
    private final Map<String, ModelSlot> slots = new LinkedHashMap<>();
    private final AtomicReference<RoutingTable> table = new AtomicReference<>();
    private final AtomicLong updates = new AtomicLong();
    private final RouterMetrics metrics;
    private final RequestRouter requests;
    private final ConfigReloader reloader;
    private final Watchdog watchdog;
    private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
    private final WorkerDirectory workerDir;
    private final Thread killWorkers;
    private volatile Map<String, java.util.List<Fault>> appliedFaults;
    private volatile boolean closed;
    /** Set by {@link #drain}: new requests are refused while those in flight finish. */
    private volatile boolean draining;
    /**
     * Requests admitted and not yet ended, counted from admission: one still waiting for a router thread is in no
     * model's queue yet, and {@link #drain} must wait for it too.
     */
    private final java.util.concurrent.atomic.AtomicInteger admitted = new java.util.concurrent.atomic.AtomicInteger();

    private Router(RouterConfig config, ModelRunnerFactory runners, MeterRegistry registry, WorkerLauncher launcher) {
        this.config = config;
        this.ledger = new MemoryLedger(config.nodeMemoryBytes());
        this.faults = new FaultInjector(config.faults(), config.modelNames());
        this.appliedFaults = config.faults().inject();
        this.metrics = new RouterMetrics(registry);
        boolean anyWorker = config.models().stream().anyMatch(m -> m.isolation() == Isolation.PROCESS);
        this.workerDir = anyWorker ? WorkerDirectory.create() : null;
        EngineBuilder.Workers w = new EngineBuilder.Workers(launcher, workerDir, config.faults(), metrics);
        for (ModelSpec m : config.models()) {
            slots.put(m.name(), new ModelSlot(m, ledger, faults, runners, config.watchdog(), w, registry));
        }
        // NOTE: OTP's link from this side: whatever ends this JVM without close() (SIGTERM, System.exit), no worker
        // outlives it. (SIGKILL runs no hook; the workers see their stdin pipe close and exit by themselves.)
        this.killWorkers = anyWorker ? new Thread(workerDir::killAll, "bulkhead-kill-workers") : null;
        if (killWorkers != null) {
            Runtime.getRuntime().addShutdownHook(killWorkers);
        }
        loadAll();
        slots.values().stream().filter(s -> s.spec().isolation() == Isolation.PROCESS)
                .forEach(s -> metrics.workerGauges(s.name(), () -> s.worker()));
        List<String> errors = RoutingTableValidator.validate(config.routing(), null, slots.keySet());
        if (!errors.isEmpty()) {
            closeSlots();
            throw new IllegalArgumentException("invalid routing table in the config: " + String.join("; ", errors));
        }
        table.set(config.routing());
        this.requests = new RequestRouter(slots, table::get, config.policy(), metrics);
        this.reloader = new ConfigReloader(config.source(), this::applyReloaded, () -> table.get().version());
        this.watchdog = new Watchdog(List.copyOf(slots.values()), config.watchdog(), reloader::poll);
    }

    /**
     * Loads models in config order: in-process ones one after another, worker processes spawned in order and
     * loading side by side (a worker's load is its own process's work).
     */
    private void loadAll() {
        List<Thread> spawning = new java.util.ArrayList<>();
        for (ModelSlot s : slots.values()) {
            if (s.spec().isolation() == Isolation.PROCESS) {
                spawning.add(Thread.ofPlatform().name("bulkhead-spawn-" + s.name()).start(s::load));
            } else {
                s.load();
            }
        }
        for (Thread t : spawning) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * A router from a config file or value, with engine and router metrics in your registry:
     * <pre>{@code
     * try (Router router = Router.builder().configFile(Path.of("router.yaml")).meterRegistry(registry).start()) {
     *     RoutedCompletion c = router.submit("chat", GenerateRequest.of("Hello", SamplingParams.greedy(32))).join();
     * }
     * }</pre>
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Collects how to start a {@link Router}; {@link #start()} loads the models. */
    public static final class Builder {
        private RouterConfig config;
        private MeterRegistry registry;
        private ModelRunnerFactory runners = ModelRunnerFactory.CPU;
        private WorkerLauncher launcher;

        private Builder() {
        }

        /** The models and routes. */
        public Builder config(RouterConfig config) {
            this.config = Objects.requireNonNull(config, "config");
            return this;
        }

        /** The models and routes from a YAML or JSON file, which the router then watches for changes. */
        public Builder configFile(java.nio.file.Path file) {
            return config(RouterConfigLoader.load(file));
        }

        /**
         * Where router metrics and every in-process model's engine metrics (tagged {@code model}) go; a
         * {@link SimpleMeterRegistry} of its own when not given.
         */
        public Builder meterRegistry(MeterRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /** The backend of in-process models (the CPU unless given). */
        public Builder runners(ModelRunnerFactory runners) {
            this.runners = Objects.requireNonNull(runners, "runners");
            return this;
        }

        /** How models with {@code isolation: process} are started ({@link WorkerLauncher#defaults()} unless given). */
        public Builder workerLauncher(WorkerLauncher launcher) {
            this.launcher = Objects.requireNonNull(launcher, "launcher");
            return this;
        }

        /** Loads every model and starts routing; see {@link Router#start(RouterConfig)}. */
        public Router start() {
            if (config == null) {
                throw new IllegalStateException("Router.builder(): give config(...) or configFile(...) before start()");
            }
            return Router.start(config, runners, registry == null ? new SimpleMeterRegistry() : registry,
                    launcher == null ? WorkerLauncher.defaults() : launcher);
        }
    }

    /** Loads every model (one that fails stays DEAD with its reason; the others start) and starts routing. */
    public static Router start(RouterConfig config) {
        return start(config, ModelRunnerFactory.CPU, new SimpleMeterRegistry());
    }

    /**
     * As {@link #start(RouterConfig)} on runners from {@code runners} (fault drills wrap them further when the
     * config enables faults), with router metrics in {@code registry}. Waits until every loaded model passed a
     * readiness probe or failed one.
     */
    public static Router start(RouterConfig config, ModelRunnerFactory runners, MeterRegistry registry) {
        return start(config, runners, registry, WorkerLauncher.defaults());
    }

    /**
     * As {@link #start(RouterConfig, ModelRunnerFactory, MeterRegistry)}, starting the models whose isolation is
     * {@link Isolation#PROCESS} as worker processes by {@code launcher} ({@code runners} then serve only the
     * in-process ones; a worker takes its backend from the launcher's device).
     */
    public static Router start(RouterConfig config, ModelRunnerFactory runners, MeterRegistry registry,
                               WorkerLauncher launcher) {
        Router r = new Router(Objects.requireNonNull(config, "config"), runners, registry,
                Objects.requireNonNull(launcher, "launcher"));
        r.watchdog.start();
        r.awaitFirstReadiness();
        LOG.info("router started: {} models, routing table v{}, health {}", r.slots.size(), r.table.get().version(),
                r.health().models().values().stream().map(m -> m.model() + "=" + m.status()).toList());
        return r;
    }

    private void awaitFirstReadiness() {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STARTUP_WAIT_MILLIS);
        while (System.nanoTime() - until < 0
                && slots.values().stream().anyMatch(s -> s.health().status() == HealthStatus.LIVE)) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Routes a request by alias (or model name). The future fails with {@link RouterRejectedException} (with a
     * retry-after hint) when no model of the route can serve it, at once when that is known before queueing; with
     * {@code InvalidRequestException} for input no model accepts. Without a deadline the policy default applies.
     * Cancelling the future abandons the request and frees what it held.
     */
    public CompletableFuture<RoutedCompletion> submit(String alias, GenerateRequest request) {
        Objects.requireNonNull(request, "request");
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("router is closed"));
        }
        if (draining) {
            return CompletableFuture.failedFuture(drainingRejection());
        }
        Instant deadline = request.deadline() != null ? request.deadline()
                : Instant.now().plusMillis(config.policy().defaultDeadlineMillis());
        long deadlineNanos = System.nanoTime() + Math.max(0, java.time.Duration.between(Instant.now(), deadline).toNanos());
        List<String> chain;
        try {
            chain = requests.chain(alias);
            Optional<RouterRejectedException> early = requests.admit(alias, chain, request, deadlineNanos);
            if (early.isPresent()) {
                metrics.rejected(alias, early.get().reason());
                return CompletableFuture.failedFuture(early.get());
            }
        } catch (RouterRejectedException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<RoutedCompletion> result = new CompletableFuture<>();
        admitted.incrementAndGet();
        result.whenComplete((r, e) -> admitted.decrementAndGet());
        Thread[] runner = new Thread[1];
        workers.execute(() -> {
            synchronized (runner) {
                runner[0] = Thread.currentThread();
            }
            try {
                if (!result.isDone()) {
                    result.complete(requests.route(alias, chain, request, deadlineNanos));
                }
            } catch (Throwable t) {
                result.completeExceptionally(t);
            } finally {
                synchronized (runner) {
                    runner[0] = null;
                    Thread.interrupted();
                }
            }
        });
        result.whenComplete((r, e) -> {
            if (result.isCancelled()) {
                synchronized (runner) {
                    if (runner[0] != null) {
                        runner[0].interrupt();
                    }
                }
            }
        });
        return result;
    }

    /**
     * Streams a request by alias (or model name), token by token. The model is picked as {@link #submit} picks it;
     * one that fails or rejects before its first token is passed over for the next in the chain, and after the
     * first token a failure ends the stream with the error. A cached fallback answer arrives as one delta. A
     * rejection fails both the origin and the stream. Cancelling the subscription or the completion aborts the
     * request and frees what it held.
     */
    public RoutedStream stream(String alias, GenerateRequest request) {
        Objects.requireNonNull(request, "request");
        AtomicReference<StreamAttempt> current = new AtomicReference<>();
        Thread[] runner = new Thread[1];
        StreamRelay relay = new StreamRelay(() -> {
            StreamAttempt a = current.get();
            if (a != null) {
                a.cancel();
            }
            synchronized (runner) {
                if (runner[0] != null) {
                    runner[0].interrupt();
                }
            }
        });
        CompletableFuture<RoutedOrigin> origin = new CompletableFuture<>();
        RoutedStream out = new RoutedStream(new TokenStream(request.requestId(), relay, relay.completion()), origin);
        if (closed) {
            fail(relay, origin, new IllegalStateException("router is closed"));
            return out;
        }
        if (draining) {
            fail(relay, origin, drainingRejection());
            return out;
        }
        long deadlineNanos = deadlineNanos(request);
        List<String> chain;
        try {
            chain = requests.chain(alias);
            Optional<RouterRejectedException> early = requests.admit(alias, chain, request, deadlineNanos);
            if (early.isPresent()) {
                metrics.rejected(alias, early.get().reason());
                fail(relay, origin, early.get());
                return out;
            }
        } catch (RouterRejectedException e) {
            fail(relay, origin, e);
            return out;
        }
        admitted.incrementAndGet();
        relay.completion().whenComplete((r, e) -> admitted.decrementAndGet());
        workers.execute(() -> {
            synchronized (runner) {
                runner[0] = Thread.currentThread();
            }
            try {
                requests.routeStream(alias, chain, request, deadlineNanos, relay, origin, a -> {
                    current.set(a);
                    if (relay.cancelled()) {
                        a.cancel();
                    }
                });
            } finally {
                synchronized (runner) {
                    runner[0] = null;
                    Thread.interrupted();
                }
            }
        });
        return out;
    }

    private long deadlineNanos(GenerateRequest request) {
        Instant deadline = request.deadline() != null ? request.deadline()
                : Instant.now().plusMillis(config.policy().defaultDeadlineMillis());
        return System.nanoTime() + Math.max(0, java.time.Duration.between(Instant.now(), deadline).toNanos());
    }

    private static void fail(StreamRelay relay, CompletableFuture<RoutedOrigin> origin, Throwable t) {
        origin.completeExceptionally(t);
        relay.fail(t);
    }

    /**
     * Validates {@code candidate} against the loaded models and the serving table and swaps it in atomically, or
     * rejects it with every reason while the last good table keeps serving.
     */
    public synchronized TableUpdate updateRoutingTable(RoutingTable candidate) {
        RoutingTable current = table.get();
        RoutingTable t = candidate;
        if (faults.enabled() && faults.corruptsTableUpdates() && candidate != null) {
            t = faults.corrupt(candidate, updates.get());
        }
        updates.incrementAndGet();
        List<String> errors = RoutingTableValidator.validate(t, current, slots.keySet());
        metrics.tableUpdate(errors.isEmpty());
        if (!errors.isEmpty()) {
            LOG.warn("routing table update rejected, v{} keeps serving: {}", current.version(), String.join("; ", errors));
            return new TableUpdate(false, current.version(), errors);
        }
        table.set(t);
        LOG.info("routing table v{} replaced v{}", t.version(), current.version());
        return new TableUpdate(true, t.version(), List.of());
    }

    /**
     * Re-reads the config file now and applies its routing table (model changes need a restart of the router).
     * Empty when the router was not started from a file.
     */
    public Optional<TableUpdate> reloadConfig() {
        return reloader.reloadNow();
    }

    private TableUpdate applyReloaded(RouterConfig fresh) {
        if (!fresh.modelNames().equals(slots.keySet())) {
            LOG.warn("config file changes the model list ({} -> {}); only the routing table and drills are reloaded",
                    slots.keySet(), fresh.modelNames());
        }
        applyFaults(fresh.faults());
        RoutingTable serving = table.get();
        if (fresh.routing().equals(serving)) {
            return new TableUpdate(true, serving.version(), List.of());
        }
        return updateRoutingTable(fresh.routing());
    }

    /**
     * Drills edited in the file ({@code faults.inject}) take effect as a difference from the last file: a fault
     * newly listed is injected, one no longer listed is cleared. Ignored unless drills were enabled at start.
     */
    private void applyFaults(FaultSpec fresh) {
        if (!faults.enabled() || !fresh.enabled()) {
            return;
        }
        Map<String, java.util.List<Fault>> before = appliedFaults;
        for (var e : fresh.inject().entrySet()) {
            for (Fault f : e.getValue()) {
                if (slots.containsKey(e.getKey()) && !before.getOrDefault(e.getKey(), List.of()).contains(f)) {
                    faults.inject(e.getKey(), f);
                }
            }
        }
        for (var e : before.entrySet()) {
            for (Fault f : e.getValue()) {
                if (slots.containsKey(e.getKey()) && !fresh.inject().getOrDefault(e.getKey(), List.of()).contains(f)) {
                    faults.clear(e.getKey(), f);
                }
            }
        }
        appliedFaults = fresh.inject();
    }

    /**
     * The checkpoint behind {@code alias} while it is loaded: the first target's of its route, or the model's own
     * when {@code alias} names a model. The HTTP layer needs it before routing, to render a chat prompt with the
     * model's template and to name the tokens of logprobs; a fallback of another family gets that same prompt.
     */
    public Optional<LoadedModel> model(String alias) {
        Route route = table.get().routes().get(alias);
        String name = route == null ? alias
                : route.targets().isEmpty() ? null : route.targets().getFirst().model();
        ModelSlot slot = name == null ? null : slots.get(name);
        return slot == null ? Optional.empty() : slot.model();
    }

    /**
     * The Prometheus text of every live worker process's metrics by model name (each series tagged with its
     * model), asked for in parallel with {@code timeout} each; a worker that does not answer in time is left out.
     */
    public Map<String, String> workerMetrics(java.time.Duration timeout) {
        Map<String, CompletableFuture<String>> asked = new LinkedHashMap<>();
        slots.forEach((name, s) -> {
            WorkerEngine w = s.worker();
            if (w != null) {
                asked.put(name, w.scrape(timeout.toMillis()));
            }
        });
        Map<String, String> out = new LinkedHashMap<>();
        asked.forEach((name, f) -> {
            try {
                out.put(name, f.join());
            } catch (RuntimeException e) {
                LOG.debug("no metrics from the worker of {}: {}", name, e.toString());
            }
        });
        return out;
    }

    /** The routing table serving now. */
    public RoutingTable routingTable() {
        return table.get();
    }

    /** The process's health and every model's, each on its own. */
    public RouterHealth health() {
        Map<String, ModelHealth> m = new LinkedHashMap<>();
        slots.forEach((k, v) -> m.put(k, v.health()));
        return new RouterHealth(!closed && watchdog.isRunning(), table.get().version(), m);
    }

    /** One model's health. */
    public Optional<ModelHealth> health(String model) {
        ModelSlot s = slots.get(model);
        return s == null ? Optional.empty() : Optional.of(s.health());
    }

    /** The node's memory split between models. */
    public MemoryLedger.Report memory() {
        return ledger.report();
    }

    /** Fault drills; every call fails unless the config enabled fault injection. */
    public FaultInjector faults() {
        return faults;
    }

    /** Restarts one model's engine (as the watchdog would), without touching the others. */
    public void restart(String model, String reason) {
        ModelSlot s = slots.get(model);
        if (s == null) {
            throw new IllegalArgumentException("no model '" + model + "' (known: " + slots.keySet() + ")");
        }
        s.restart("operator: " + reason);
    }

    /**
     * Stops admitting (every later {@link #submit} and {@link #stream} is rejected with
     * {@link RouterRejectedException.Reason#DRAINING}) and waits until no request is in flight or queued on any
     * model, or {@code timeout} has passed. Call {@link #close} afterwards: it aborts what is still running. A
     * graceful shutdown is {@code drain(timeout)} then {@code close()}, as a server stops taking connections
     * before it stops.
     *
     * @return true when every request finished within {@code timeout}
     */
    public boolean drain(java.time.Duration timeout) {
        draining = true;
        long until = System.nanoTime() + timeout.toNanos();
        while (true) {
            int busy = admitted.get()
                    + slots.values().stream().map(ModelSlot::health).mapToInt(h -> h.inFlight() + h.queued()).sum();
            if (busy == 0) {
                return true;
            }
            if (System.nanoTime() - until >= 0) {
                return false;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    private static RouterRejectedException drainingRejection() {
        return new RouterRejectedException(RouterRejectedException.Reason.DRAINING, java.time.Duration.ofSeconds(1),
                "the router is draining for shutdown; send the request to another replica");
    }

    /**
     * Stops routing, the watchdog and every engine, in the reverse of their start order (an engine hung in a step is
     * given a bounded wait; a worker process that does not exit gets SIGKILL).
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        watchdog.stop();
        workers.shutdownNow();
        faults.clearAll();
        closeSlots();
    }

    private void closeSlots() {
        List<ModelSlot> reversed = new java.util.ArrayList<>(slots.values());
        java.util.Collections.reverse(reversed);
        reversed.forEach(ModelSlot::close);
        if (killWorkers != null) {
            workerDir.killAll();
            try {
                Runtime.getRuntime().removeShutdownHook(killWorkers);
            } catch (IllegalStateException e) {
                // the JVM is shutting down already and runs the hook itself
            }
        }
        if (workerDir != null) {
            workerDir.delete();
        }
    }

}
