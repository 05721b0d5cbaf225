package dev.bulkhead.engine;

import dev.bulkhead.engine.internal.runner.BackendLostException;
import dev.bulkhead.engine.internal.runner.BatchInput;
import dev.bulkhead.engine.internal.runner.DeviceSampler;
import dev.bulkhead.engine.internal.runner.ModelRunner;
import dev.bulkhead.engine.internal.runner.PipelinedSampler;
import dev.bulkhead.engine.internal.runner.SamplingRows;
import dev.bulkhead.scheduler.FinishReason;
import dev.bulkhead.scheduler.ScheduledChunk;
import dev.bulkhead.scheduler.Scheduler;
import dev.bulkhead.scheduler.SchedulerOutput;
import dev.bulkhead.scheduler.SchedulerRequest;
import dev.bulkhead.scheduler.SchedulerStats;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One model's engine loop: schedule → execute → sample → update → stream, on one platform thread that owns
 * the scheduler, the runner and every request's state. Other threads talk to it only through the inbox.
 *
 * <p>Asynchronous scheduling (vLLM v1's; on a {@link PipelinedSampler} with
 * {@link EngineOptions#asyncScheduling()}): each iteration schedules step N+1 ahead of step N's result, launches
 * it, and only then awaits step N's ids and does its bookkeeping (tokens to the scheduler, detokenizing, stop
 * checks, streaming, metrics), so the device has the next step queued while the host works. A decode token of N+1
 * whose value N samples is fed from N's ids on the device. A request that finishes at N (EOS, stop string,
 * max_tokens, abort, deadline) has its token from N+1 discarded; its blocks are freed when it finishes, and the
 * steps queued after N+1 run after N+1's writes to them. A step runs synchronously instead (the step in flight
 * completes first, and this one before anything else is scheduled) when a request it samples needs its complete
 * history (a JSON guide or log-probabilities, sampled on the host from logits; penalties, whose token list would
 * lack the token in flight), or it samples more rows than one launch takes.
 */
final class EngineLoop implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(EngineLoop.class);
    // NOTE: an idle loop still wakes this often to expire deadlines of requests that are queued nowhere else.
    private static final long IDLE_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final String modelName;
    private final Scheduler scheduler;
    private final ModelRunner runner;
    private final DeviceSampler deviceSampler;  // the runner, when it samples on its device; else null
    private final PipelinedSampler pipelined;   // the runner, when it also launches steps without waiting; else null
    private final boolean async;                // schedule each step ahead of the previous one's result
    private final HostClock clock = new HostClock();
    private InFlight inFlight;                  // async: the step launched last, not yet completed
    private final StepRows rows;
    private final EngineMetrics metrics;
    private final BlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
    private final Map<String, ActiveRequest> active = new HashMap<>();
    private volatile boolean stopping;
    private volatile BackendLostException lost; // why the loop stopped for good, when its backend died
    private volatile long lastStepNanos = System.nanoTime();
    private volatile long steps;
    private volatile SchedulerStats stats;
    private final boolean checkInvariants;

    /**
     * A launched step: its output, the active request of each chunk when it was launched, the logit row of each
     * request it samples, and when it was launched.
     */
    private record InFlight(SchedulerOutput out, ActiveRequest[] owners, Map<String, Integer> rowOf, long startNanos) {
    }

    EngineLoop(String modelName, Scheduler scheduler, ModelRunner runner, EngineMetrics metrics,
               boolean checkInvariants, boolean asyncScheduling) {
        this.checkInvariants = checkInvariants;
        this.modelName = modelName;
        this.scheduler = scheduler;
        this.runner = runner;
        // NOTE: a decorated runner (fault drills, pacing) is not a DeviceSampler, so its forward is what runs.
        this.deviceSampler = runner instanceof DeviceSampler ds && ds.samplesOnDevice() ? ds : null;
        this.pipelined = deviceSampler instanceof PipelinedSampler p ? p : null;
        this.async = asyncScheduling && pipelined != null;
        this.metrics = metrics;
        this.rows = new StepRows(active, metrics, runner.config().vocabSize(), this::failRequest);
        this.stats = scheduler.stats();
    }

    /** Queues a validated request; it joins the scheduler on the loop thread. */
    void submit(ActiveRequest r, SchedulerRequest sr) {
        inbox.add(() -> {
            if (lost != null) {
                // NOTE: queued just before the backend was lost: an error a caller can retry, not an empty answer.
                r.fail(lostError());
                return;
            }
            if (stopping) {
                r.abort(System.nanoTime());
                return;
            }
            active.put(r.id, r);
            scheduler.add(sr);
        });
    }

    /** Aborts a request in any state; unknown or finished ids are ignored. */
    void abort(String requestId) {
        inbox.add(() -> finish(requestId, FinishReason.ABORT));
    }

    /** Asks the loop to stop after aborting whatever is still queued or running. */
    void stop() {
        stopping = true;
        inbox.add(() -> { });
    }

    @Override
    public void run() {
        Thread.currentThread().setName("bulkhead-engine-" + modelName);
        try {
            while (!stopping) {
                boolean idle = !scheduler.hasWork() && inFlight == null;
                if (!idle) {
                    clock.start(inFlight != null);
                }
                drainInbox(idle);
                if (idle) {
                    clock.start(false);
                }
                expireDeadlines();
                boolean stepped = scheduler.hasWork() || inFlight != null;
                if (stepped) {
                    step();
                }
                if (checkInvariants) {
                    scheduler.checkInvariants();
                }
                stats = scheduler.stats();
                lastStepNanos = System.nanoTime();
                if (stepped) {
                    clock.end();
                    metrics.hostTime(clock.hostNanos(), clock.exposedNanos());
                }
            }
        } catch (Throwable t) {
            LOG.error("engine loop of {} died", modelName, t);
            throw t;
        } finally {
            abandonInFlight();
            drainInbox(false);
            for (String id : List.copyOf(active.keySet())) {
                if (lost != null) {
                    fail(id, lostError());
                } else {
                    finish(id, FinishReason.ABORT);
                }
            }
            stats = scheduler.stats();
        }
    }

    /** Waits for a launched step nobody will complete (the loop is stopping), so the runner is idle when closed. */
    private void abandonInFlight() {
        if (inFlight != null && lost == null) {
            try {
                pipelined.awaitLaunched();
            } catch (RuntimeException e) {
                LOG.debug("the step in flight of {} failed while the loop stopped: {}", modelName, e.toString());
            }
        }
        inFlight = null;
    }

    private EngineStepException lostError() {
        return new EngineStepException("engine of model " + modelName + " lost its backend: " + lost.getMessage(), lost);
    }

    /** Why the loop stopped for good when its backend was lost; null otherwise. */
    BackendLostException lostBackend() {
        return lost;
    }

    private void drainInbox(boolean idle) {
        try {
            Runnable cmd = idle ? inbox.poll(IDLE_WAIT_NANOS, TimeUnit.NANOSECONDS) : inbox.poll();
            while (cmd != null) {
                cmd.run();
                cmd = inbox.poll();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopping = true;
        }
    }

    private void expireDeadlines() {
        long now = System.nanoTime();
        // NOTE: runs every iteration; allocates only when something expired.
        List<String> expired = null;
        for (ActiveRequest r : active.values()) {
            if (r.deadlineNanos != Long.MAX_VALUE && now - r.deadlineNanos >= 0) {
                if (expired == null) {
                    expired = new ArrayList<>();
                }
                expired.add(r.id);
            }
        }
        if (expired != null) {
            for (String id : expired) {
                metrics.deadlineExpired();
                finish(id, FinishReason.ABORT);
            }
        }
    }

    private void step() {
        if (!async) {
            runSynchronously(scheduler.schedule());
            return;
        }
        SchedulerOutput out = scheduler.scheduleAhead();
        if (out.chunks().isEmpty() || !describeForLaunch(out)) {
            // NOTE: nothing to launch, or a step that must see the one in flight complete first: drain, run alone.
            completeInFlight();
            if (lost == null) {
                runSynchronously(out);
            }
            return;
        }
        InFlight launched;
        try {
            launched = launch(out);
        } catch (BackendLostException e) {
            backendLost(e, out);
            return;
        } catch (RuntimeException | Error e) {
            // NOTE: outputs reach the scheduler in order: the step in flight first.
            completeInFlight();
            failStep(out, rows.owners(out), e);
            return;
        }
        completeInFlight();
        if (lost != null) {
            failStep(launched.out(), launched.owners(), lost);
            return;
        }
        inFlight = launched;
    }

    /** Describes {@code out}'s rows for a launch that does not wait; false when it must run synchronously. */
    private boolean describeForLaunch(SchedulerOutput out) {
        if (StepBatch.sampledRows(out) > pipelined.maxLaunchRows()) {
            return false;
        }
        for (ScheduledChunk c : out.chunks()) {
            ActiveRequest r = active.get(c.requestId());
            if (c.sample() && (r == null || r.needsCompleteHistory())) {
                return false;
            }
        }
        rows.describeRows(out, deviceSampler.penaltyCapacity());
        return rows.allOnDevice();
    }

    /**
     * Launches {@code out} (rows already described) without waiting: its placeholder tokens take the ids the step in
     * flight samples, on the device.
     */
    private InFlight launch(SchedulerOutput out) {
        long start = System.nanoTime();
        ActiveRequest[] owners = rows.owners(out);
        Map<String, Integer> rowOf = new HashMap<>();
        int row = 0;
        for (ScheduledChunk c : out.chunks()) {
            if (c.sample()) {
                rowOf.put(c.requestId(), row++);
            }
        }
        int[] feed = StepBatch.feedRows(out, inFlight == null ? Map.of() : inFlight.rowOf());
        // NOTE: a placeholder gets any valid id here; the device overwrites it before the embedding reads it.
        BatchInput batch = StepBatch.of(out, id -> 0);
        clock.launching();
        pipelined.launch(batch, rows.described(), feed);
        for (int i = 0; i < owners.length; i++) {
            if (out.chunks().get(i).sample()) {
                owners[i].launched();
            }
        }
        return new InFlight(out, owners, rowOf, start);
    }

    /** Awaits the step in flight, if any, and hands its tokens to the scheduler and its requests. */
    private void completeInFlight() {
        InFlight f = inFlight;
        if (f == null) {
            return;
        }
        inFlight = null;
        int[] ids;
        long since = clock.waiting();
        try {
            ids = pipelined.awaitLaunched();
        } catch (BackendLostException e) {
            backendLost(e, f.out());
            return;
        } catch (RuntimeException | Error e) {
            landed(f);
            failStep(f.out(), f.owners(), e);
            return;
        } finally {
            clock.waited(since, pipelined.launchedPending() > 0);
        }
        landed(f);
        finishStep(f.out(), rows.collect(f.out(), f.owners(), ids), f.startNanos());
    }

    private static void landed(InFlight f) {
        for (int i = 0; i < f.owners().length; i++) {
            if (f.out().chunks().get(i).sample()) {
                f.owners()[i].landed();
            }
        }
    }

    /** Runs {@code out} to completion before anything else is scheduled (the loop as it is without async). */
    private void runSynchronously(SchedulerOutput out) {
        if (out.chunks().isEmpty()) {
            scheduler.update(out, Map.of());
            return;
        }
        long start = System.nanoTime();
        ActiveRequest[] owners = rows.owners(out);
        Map<String, Integer> sampled;
        try {
            // NOTE: a placeholder of a step scheduled ahead is known once the step before completed: its last token.
            BatchInput batch = StepBatch.of(out, this::lastToken);
            sampled = deviceSampler != null ? sampleOnDevice(out, owners, batch) : sampleOnHost(out, owners, batch);
        } catch (BackendLostException e) {
            backendLost(e, out);
            return;
        } catch (RuntimeException | Error e) {
            failStep(out, owners, e);
            return;
        }
        finishStep(out, sampled, start);
    }

    private int lastToken(String requestId) {
        ActiveRequest r = active.get(requestId);
        return r == null ? 0 : Math.max(0, r.lastToken());
    }

    /** Samples every row on the host from the runner's logits. */
    private Map<String, Integer> sampleOnHost(SchedulerOutput out, ActiveRequest[] owners, BatchInput batch) {
        clock.launching();
        long since = clock.waiting();
        float[] logits;
        try {
            logits = runner.forward(batch);
        } finally {
            clock.waited(since, false);
        }
        return rows.sampleRows(out, owners, null, logits);
    }

    /**
     * Samples plain rows on the device, in a launch awaited at once when every row is one (the path the async loop
     * takes), and any other rows on the host from the logits the runner brings back.
     */
    private Map<String, Integer> sampleOnDevice(SchedulerOutput out, ActiveRequest[] owners, BatchInput batch) {
        SamplingRows described = rows.describeRows(out, deviceSampler.penaltyCapacity());
        if (pipelined != null && rows.allOnDevice() && described.rows() <= pipelined.maxLaunchRows()) {
            clock.launching();
            pipelined.launch(batch, described, null);
            long since = clock.waiting();
            try {
                return rows.collect(out, owners, pipelined.awaitLaunched());
            } finally {
                clock.waited(since, false);
            }
        }
        clock.launching();
        long since = clock.waiting();
        DeviceSampler.SampledStep s;
        try {
            s = deviceSampler.forwardAndSample(batch, described);
        } finally {
            clock.waited(since, false);
        }
        return rows.sampleRows(out, owners, s.ids(), s.hostLogits());
    }

    /** Hands a completed step's tokens to the scheduler, then to each request (stop checks, streaming). */
    private void finishStep(SchedulerOutput out, Map<String, Integer> sampled, long startNanos) {
        scheduler.update(out, sampled);
        long now = System.nanoTime();
        for (Map.Entry<String, Integer> e : sampled.entrySet()) {
            ActiveRequest r = active.get(e.getKey());
            FinishReason reason = r.accept(e.getValue(), now);
            metrics.tokenProduced(r);
            if (reason != null) {
                finish(r.id, reason);
            }
        }
        steps++;
        metrics.step(out.numBatchedTokens(), System.nanoTime() - startNanos);
    }

    /**
     * The backend is lost: fails the step in flight, then {@code failed} (steps of this iteration, in the order
     * they were scheduled), and stops the loop.
     */
    private void backendLost(BackendLostException e, SchedulerOutput... failed) {
        // NOTE: a dead context fails every later step too: stop, so a supervisor rebuilds this engine.
        LOG.error("engine of {} lost its backend and stops: {}", modelName, e.getMessage());
        InFlight f = inFlight;
        inFlight = null;
        if (f != null) {
            failStep(f.out(), f.owners(), e);
        }
        for (SchedulerOutput out : failed) {
            failStep(out, rows.owners(out), e);
        }
        lost = e;
        stopping = true;
    }

    /** A failed step fails exactly its own requests, frees their blocks, and leaves the loop serving others. */
    private void failStep(SchedulerOutput out, ActiveRequest[] owners, Throwable e) {
        LOG.warn("step of {} with {} requests failed: {}", modelName, out.chunks().size(), e.toString());
        EngineStepException error = new EngineStepException("engine step failed for model " + modelName + ": " + e, e);
        for (ActiveRequest r : owners) {
            // NOTE: by identity: an id reused since the step was scheduled names another request.
            if (r != null && active.get(r.id) == r) {
                fail(r.id, error);
            }
        }
        scheduler.update(out, Map.of());
    }

    /** Fails one request of a step that otherwise went well, and frees its blocks. */
    private void failRequest(String id, RuntimeException e) {
        LOG.warn("sampling request {} of {} failed: {}", id, modelName, e.toString());
        fail(id, new EngineStepException("sampling failed for request " + id + " of model " + modelName + ": "
                + e.getMessage(), e));
    }

    private void fail(String id, EngineStepException error) {
        ActiveRequest r = active.remove(id);
        scheduler.finish(id, FinishReason.ERROR);
        if (r != null) {
            metrics.finished(FinishReason.ERROR);
            r.fail(error);
        }
    }

    private void finish(String id, FinishReason reason) {
        scheduler.finish(id, reason);
        // NOTE: published before the caller hears of the end, so stats read after a completion show its blocks freed.
        stats = scheduler.stats();
        ActiveRequest r = active.remove(id);
        if (r == null) {
            return;
        }
        metrics.finished(reason);
        if (reason == FinishReason.ABORT) {
            r.abort(System.nanoTime());
        } else {
            r.complete(reason, System.nanoTime());
        }
    }

    /** Nanotime of the last completed loop iteration (the liveness heartbeat). */
    long lastStepNanos() {
        return lastStepNanos;
    }

    /** Whether steps are scheduled ahead of the previous one's result (asynchronous scheduling). */
    boolean isAsync() {
        return async;
    }

    /** Steps that ran a forward pass. */
    long steps() {
        return steps;
    }

    /** Scheduler statistics as of the last iteration (safe to read from any thread). */
    SchedulerStats stats() {
        return stats;
    }
}
