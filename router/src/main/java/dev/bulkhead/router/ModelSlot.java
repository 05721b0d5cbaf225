package dev.bulkhead.router;

import dev.bulkhead.engine.EngineStepException;
import dev.bulkhead.engine.InvalidRequestException;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.FinishReason;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.model.ModelFormatException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything one model owns: its engine (replaced on restart), its memory reservation, its admission queue,
 * circuit breaker, latency estimate and health. Nothing here is shared with another model, so restarting or
 * failing this one cannot touch another's memory, queue or state.
 */
final class ModelSlot implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ModelSlot.class);
    // NOTE: the engine aborts an attempt at its deadline on its next loop iteration; the router waits this much
    // longer before it stops waiting itself (a hung loop never gets to that iteration).
    private static final long GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    // NOTE: probes jump every queue: readiness is about the model, not about how busy it is.
    private static final int PROBE_PRIORITY = -1000;
    private static final long CLOSE_WAIT_MILLIS = 2_000;

    private record EngineHandle(SlotEngine engine, MemoryLedger.Reservation reservation) {
    }

    private final ModelSpec spec;
    private final MemoryLedger ledger;
    private final FaultInjector faults;
    private final EngineBuilder builder;
    private final WatchdogSpec watchdog;
    private final java.util.ArrayDeque<Long> restartTimes = new java.util.ArrayDeque<>();
    private final CircuitBreaker breaker;
    private final Admission admission;
    private final LatencyEstimator latency = new LatencyEstimator();
    private final EngineMeterBridge meters;
    private final Set<CompletableFuture<Completion>> pending = ConcurrentHashMap.newKeySet();

    private volatile EngineHandle current;
    private volatile Boolean readiness;
    private volatile String fatal;
    private boolean restarting;
    private boolean gaveUp;
    private boolean permanent;
    private boolean closed;
    private int restarts;
    private int generation;
    private int failuresInRow;
    private String reason = "";

    ModelSlot(ModelSpec spec, MemoryLedger ledger, FaultInjector faults, ModelRunnerFactory base, WatchdogSpec watchdog,
              EngineBuilder.Workers workers, MeterRegistry registry) {
        this.spec = spec;
        this.meters = new EngineMeterBridge(registry, () -> {
            SlotEngine e = engine();
            return e == null ? null : e.engineMeters();
        });
        this.ledger = ledger;
        this.faults = faults;
        this.builder = new EngineBuilder(spec, ledger,
                faults.enabled() ? FaultyRunner.factory(spec.name(), faults, base) : base, workers);
        this.watchdog = watchdog;
        if (builder.isProcess()) {
            // NOTE: registered for the slot's life, not per worker: a fault injected while no worker runs must wait
            // for the next one, never act on this (the router's) process.
            faults.forward(spec.name(), (f, on) -> {
                SlotEngine e = engine();
                return e != null && e.worker() != null && e.worker().sendFault(f, on);
            });
        }
        this.breaker = CircuitBreaker.of(spec.name(), spec.breaker().toConfig());
        this.admission = new Admission(spec.queue());
        breaker.getEventPublisher().onStateTransition(e -> LOG.warn("breaker of {}: {}", spec.name(),
                e.getStateTransition()));
    }

    /** First load; a failure leaves this model DEAD with the reason and touches nothing else. */
    void load() {
        try {
            EngineHandle h = build();
            synchronized (this) {
                current = h;
                generation++;
                reason = "loaded, awaiting readiness";
            }
            meters.bridge(h.engine().engineMeters());
            replayFaults(h);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failed("load interrupted", e);
        } catch (Throwable t) {
            failed("load failed: " + message(t), t);
        }
    }

    /** A new worker gets the drills that stay on, and those injected while no worker ran. */
    private void replayFaults(EngineHandle h) {
        WorkerEngine w = h.engine().worker();
        if (w != null && faults.enabled()) {
            faults.replay(spec.name(), w::sendFault);
        }
    }

    private EngineHandle build() throws InterruptedException {
        EngineBuilder.Built b = builder.build();
        return new EngineHandle(b.engine(), b.reservation());
    }

    private synchronized void failed(String why, Throwable t) {
        permanent = t instanceof ModelFormatException || t instanceof ModelLoadException m && m.permanent();
        reason = why;
        LOG.error("model {}: {}{}", spec.name(), why, permanent ? " (permanent until the config changes)" : "");
    }

    String name() {
        return spec.name();
    }

    ModelSpec spec() {
        return spec;
    }

    CircuitBreaker breaker() {
        return breaker;
    }

    Admission admission() {
        return admission;
    }

    LatencyEstimator latency() {
        return latency;
    }

    /** The engine now, or null while there is none. */
    SlotEngine engine() {
        EngineHandle h = current;
        return h == null ? null : h.engine();
    }

    synchronized int generation() {
        return generation;
    }

    /** Whether requests may be sent here now (the breaker is asked separately). */
    boolean routable() {
        return current != null && Boolean.TRUE.equals(readiness);
    }

    /** Expected latency of a request of {@code maxTokens} given the work already admitted. */
    long estimateNanos(int maxTokens) {
        return latency.estimateNanos(maxTokens, admission.inUse(), spec.engine().maxRunning());
    }

    /** Records a readiness result for the engine of {@code gen}; stale results of replaced engines are dropped. */
    synchronized void readiness(int gen, boolean ok, String why) {
        if (gen != generation || current == null) {
            return;
        }
        if (ok && !Boolean.TRUE.equals(readiness)) {
            LOG.info("model {} is ready (engine generation {})", spec.name(), gen);
        } else if (!ok && !Boolean.FALSE.equals(readiness)) {
            LOG.warn("model {} is not ready: {}", spec.name(), why);
        }
        readiness = ok;
        reason = ok ? "" : why;
        if (ok) {
            failuresInRow = 0;
        }
    }

    /** Marks the engine as beyond saving (an OutOfMemoryError in a step); the watchdog restarts it. */
    void markFatal(String why) {
        fatal = why;
    }

    /** Why the engine must be restarted now, or null when it is alive and making progress. */
    String livenessProblem(long nowNanos) {
        EngineHandle h = current;
        if (h == null) {
            return null;
        }
        if (!h.engine().isRunning()) {
            return h.engine().failure().map(f -> "engine loop stopped: " + f).orElse("engine loop died");
        }
        String f = fatal;
        if (f != null) {
            return f;
        }
        long silent = nowNanos - h.engine().lastHeartbeatNanos();
        if (silent > TimeUnit.MILLISECONDS.toNanos(spec.health().livenessTimeoutMillis())) {
            return "engine loop stuck: no heartbeat for " + silent / 1_000_000 + " ms";
        }
        return null;
    }

    /** Whether a failed load should be tried again now (the watchdog calls {@link #restart}). */
    synchronized boolean needsRetry() {
        return current == null && !restarting && !permanent && !closed;
    }

    /**
     * Replaces the engine: requests waiting on the old one fail over at once, the old engine is shut down on its
     * own thread (a hung step may hold it; its memory stays reserved until it is gone), and a new one is built
     * after a backoff that grows with restarts that never reached readiness.
     */
    void restart(String why) {
        EngineHandle old;
        long delay;
        synchronized (this) {
            if (restarting || permanent || closed) {
                return;
            }
            old = current;
            current = null;
            readiness = null;
            fatal = null;
            restarting = true;
            restarts++;
            failuresInRow++;
            boolean intense = pastIntensity(System.nanoTime());
            delay = intense ? watchdog.deadRetryMillis() : watchdog.backoffMillis(failuresInRow);
            gaveUp = failuresInRow > watchdog.maxRestarts() || intense;
            String cause = old == null && !reason.isEmpty() ? why + " (" + reason + ")" : why;
            reason = !gaveUp ? cause : intense ? cause + "; more than " + watchdog.maxRestarts() + " restarts within "
                    + watchdog.restartPeriodMillis() + " ms (restart intensity), next try in " + delay + " ms"
                    : cause + "; " + watchdog.maxRestarts() + " restarts did not help, next try in " + delay + " ms";
        }
        LOG.warn("restarting model {} (restart {}, in {} ms): {}", spec.name(), restarts, delay, why);
        AttemptFailedException abandoned = new AttemptFailedException("model " + spec.name() + " is restarting: " + why);
        pending.forEach(f -> f.completeExceptionally(abandoned));
        Thread reaper = old == null ? null
                : Thread.ofVirtual().name("bulkhead-reap-" + spec.name()).start(() -> reap(old));
        // NOTE: an engine that lost its backend (a sticky CUDA error) holds a poisoned primary context, which the
        // driver makes anew only once every user released it: build the new engine after the old one is reaped, or
        // it retains the poisoned context and fails. Its loop has stopped, so the reaping waits on no step.
        // A worker process is gone before its successor starts, so two never hold the model's memory at once.
        Thread first = old != null && (old.engine().failure().isPresent() || old.engine().worker() != null) ? reaper
                : null;
        // NOTE: a platform thread: loading maps files and opens a native tokenizer, which would pin one of the few
        // carrier threads that every routed request runs on.
        Thread.ofPlatform().daemon().name("bulkhead-restart-" + spec.name()).start(() -> reload(delay, first));
    }

    /** Records a restart now; true when it is one more than the restart intensity allows (OTP's R in T). */
    private boolean pastIntensity(long now) {
        restartTimes.addLast(now);
        long period = TimeUnit.MILLISECONDS.toNanos(watchdog.restartPeriodMillis());
        while (!restartTimes.isEmpty() && now - restartTimes.peekFirst() > period) {
            restartTimes.removeFirst();
        }
        return restartTimes.size() > watchdog.maxRestarts();
    }

    private void reap(EngineHandle old) {
        try {
            old.engine().shutdown(Duration.ZERO);
        } catch (RuntimeException e) {
            LOG.warn("shutting down the old engine of {} failed: {}", spec.name(), e.toString());
        } finally {
            ledger.release(old.reservation());
        }
    }

    /** Builds the new engine after {@code delayMillis}, and after {@code reaper} (unless null) ended or timed out. */
    private void reload(long delayMillis, Thread reaper) {
        try {
            if (reaper != null && !reaper.join(Duration.ofMillis(CLOSE_WAIT_MILLIS))) {
                LOG.warn("the old engine of {} is not released after {} ms; building the new one anyway", spec.name(),
                        CLOSE_WAIT_MILLIS);
            }
            Thread.sleep(delayMillis);
            EngineHandle h = build();
            synchronized (this) {
                restarting = false;
                gaveUp = false;
                if (closed) {
                    reap(h);
                    return;
                }
                current = h;
                generation++;
                reason = "restarted, awaiting readiness";
                latency.reset();
            }
            meters.bridge(h.engine().engineMeters());
            replayFaults(h);
            LOG.info("model {} has a new engine (generation {})", spec.name(), generation());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            synchronized (this) {
                restarting = false;
            }
        } catch (Throwable t) {
            synchronized (this) {
                restarting = false;
                gaveUp = false;
            }
            failed("restart failed: " + message(t), t);
        }
    }

    /**
     * One attempt on this model, after the caller took a breaker permission and an admission permit. Records
     * the outcome in the breaker and the latency estimate.
     *
     * @throws AttemptFailedException  the model failed, timed out or restarted; try the next in the chain
     * @throws InvalidRequestException the request can never be served (no breaker call recorded)
     */
    Completion attempt(GenerateRequest request, String attemptId, long timeoutNanos) {
        EngineHandle h = current;
        if (h == null) {
            breaker.releasePermission();
            throw new AttemptFailedException("model " + spec.name() + " has no engine");
        }
        long start = System.nanoTime();
        CompletableFuture<Completion> view;
        try {
            view = h.engine().generate(request.withRequestId(attemptId)
                    .withDeadline(Instant.now().plusNanos(timeoutNanos))).copy();
        } catch (InvalidRequestException e) {
            breaker.releasePermission();
            throw e;
        } catch (IllegalStateException e) {
            breaker.releasePermission();
            throw new AttemptFailedException("model " + spec.name() + " is shutting its engine down");
        }
        pending.add(view);
        try {
            Completion c = view.get(timeoutNanos + GRACE_NANOS, TimeUnit.NANOSECONDS);
            long took = System.nanoTime() - start;
            latency.observe(took, c.tokenIds().length);
            if (c.finishReason() == FinishReason.ABORT) {
                String msg = "model " + spec.name() + " missed its attempt deadline of " + timeoutNanos / 1_000_000 + " ms";
                breaker.onError(took, TimeUnit.NANOSECONDS, new TimeoutException(msg));
                throw new AttemptFailedException(msg);
            }
            breaker.onSuccess(took, TimeUnit.NANOSECONDS);
            return c;
        } catch (TimeoutException e) {
            h.engine().cancel(attemptId);
            long took = System.nanoTime() - start;
            breaker.onError(took, TimeUnit.NANOSECONDS, e);
            throw new AttemptFailedException("model " + spec.name() + " did not answer within " + took / 1_000_000 + " ms");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof EngineStepException && cause.getCause() instanceof OutOfMemoryError oom) {
                markFatal("OutOfMemoryError in a forward pass: " + oom.getMessage());
            }
            breaker.onError(System.nanoTime() - start, TimeUnit.NANOSECONDS, cause);
            throw new AttemptFailedException("model " + spec.name() + " failed: " + cause.getMessage());
        } catch (InterruptedException e) {
            h.engine().cancel(attemptId);
            breaker.releasePermission();
            Thread.currentThread().interrupt();
            throw new CancellationException("request cancelled while waiting on model " + spec.name());
        } finally {
            pending.remove(view);
        }
    }

    /**
     * Starts a streamed attempt on this model, after the caller took a breaker permission and an admission permit;
     * from then on the attempt records its outcome and releases both.
     *
     * @throws AttemptFailedException  the model has no engine or is shutting it down (the permission is released)
     * @throws InvalidRequestException the request can never be served (the permission is released)
     */
    StreamAttempt startStream(GenerateRequest request, String attemptId, Instant deadline, PriorityClass pc) {
        EngineHandle h = current;
        if (h == null) {
            breaker.releasePermission();
            throw new AttemptFailedException("model " + spec.name() + " has no engine");
        }
        dev.bulkhead.engine.api.TokenStream ts;
        try {
            ts = h.engine().stream(request.withRequestId(attemptId).withDeadline(deadline));
        } catch (InvalidRequestException e) {
            breaker.releasePermission();
            throw e;
        } catch (IllegalStateException e) {
            breaker.releasePermission();
            throw new AttemptFailedException("model " + spec.name() + " is shutting its engine down");
        }
        CompletableFuture<Completion> view = ts.completion().copy();
        pending.add(view);
        view.whenComplete((c, e) -> pending.remove(view));
        StreamAttempt a = new StreamAttempt(this, pc, ts);
        a.start(view);
        return a;
    }

    /** Starts a readiness probe: one real forward step (a one-token prompt, one token out). */
    CompletableFuture<Completion> probe(long timeoutNanos) {
        EngineHandle h = current;
        if (h == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("no engine"));
        }
        int bos = h.engine().bosId();
        var sampling = dev.bulkhead.engine.api.SamplingParams.greedy(1).toBuilder().ignoreEos(true).build();
        try {
            return h.engine().generate(GenerateRequest.ofTokens(new int[] {bos}, sampling)
                    .withRequestId("readiness-" + spec.name() + "-" + System.nanoTime()).withPriority(PROBE_PRIORITY)
                    .withDeadline(Instant.now().plusNanos(timeoutNanos)));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    FaultInjector faults() {
        return faults;
    }

    synchronized ModelHealth health() {
        EngineHandle h = current;
        HealthStatus status;
        if (restarting) {
            status = gaveUp ? HealthStatus.DEAD : HealthStatus.RESTARTING;
        } else if (h == null) {
            status = HealthStatus.DEAD;
        } else if (readiness == null) {
            status = HealthStatus.LIVE;
        } else if (!readiness || breaker.getState() == CircuitBreaker.State.OPEN) {
            status = HealthStatus.DEGRADED;
        } else {
            status = HealthStatus.READY;
        }
        String why = status == HealthStatus.DEGRADED && Boolean.TRUE.equals(readiness) ? "circuit breaker open" : reason;
        Instant beat = null;
        int inFlight = 0;
        int kv = 0;
        WorkerStatus worker = null;
        if (h != null) {
            beat = Instant.now().minusNanos(System.nanoTime() - h.engine().lastHeartbeatNanos());
            inFlight = h.engine().inFlight();
            kv = h.engine().kvBlocksInUse();
            worker = h.engine().worker() == null ? null : h.engine().worker().status();
        }
        return new ModelHealth(spec.name(), status, routable(), beat, breaker.getState(), restarts, generation, inFlight,
                admission.inUse(), kv, ledger.reservedBy(spec.name()), status == HealthStatus.READY ? "" : why,
                spec.isolation() == null ? Isolation.IN_PROCESS : spec.isolation(), worker);
    }

    @Override
    public void close() {
        EngineHandle h;
        synchronized (this) {
            closed = true;
            h = current;
            current = null;
        }
        meters.close();
        if (h != null) {
            Thread reaper = Thread.ofVirtual().name("bulkhead-close-" + spec.name()).start(() -> reap(h));
            try {
                // NOTE: bounded: an engine hung in a step must not keep the router from closing.
                if (!reaper.join(Duration.ofMillis(CLOSE_WAIT_MILLIS))) {
                    LOG.warn("engine of {} did not stop within {} ms; leaving it to finish on its own", spec.name(),
                            CLOSE_WAIT_MILLIS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        builder.close();
    }

    /** The checkpoint for the HTTP layer: a worker model's stays loaded in the router across restarts. */
    java.util.Optional<dev.bulkhead.model.LoadedModel> model() {
        if (builder.hasCatalog()) {
            return java.util.Optional.of(builder.catalog());
        }
        SlotEngine e = engine();
        return e == null ? java.util.Optional.empty() : java.util.Optional.of(e.model());
    }

    /** Its worker process now, or null (in-process, or between workers). */
    WorkerEngine worker() {
        SlotEngine e = engine();
        return e == null ? null : e.worker();
    }

    private static String message(Throwable t) {
        return t.getMessage() == null ? t.toString() : t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}
