package dev.bulkhead.engine;

import dev.bulkhead.engine.runner.BackendLostException;
import dev.bulkhead.engine.runner.BatchInput;
import dev.bulkhead.engine.runner.DeviceSampler;
import dev.bulkhead.engine.runner.ModelRunner;
import dev.bulkhead.engine.runner.SamplingRows;
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
 */
final class EngineLoop implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(EngineLoop.class);
    // NOTE: an idle loop still wakes this often to expire deadlines of requests that are queued nowhere else.
    private static final long IDLE_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final String modelName;
    private final Scheduler scheduler;
    private final ModelRunner runner;
    private final DeviceSampler deviceSampler;  // the runner, when it samples on its device; else null
    private final SamplingRows samplingRows = new SamplingRows();
    private final EngineMetrics metrics;
    private final int vocabSize;
    private final BlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
    private final Map<String, ActiveRequest> active = new HashMap<>();
    private volatile boolean stopping;
    private volatile BackendLostException lost; // why the loop stopped for good, when its backend died
    private volatile long lastStepNanos = System.nanoTime();
    private volatile long steps;
    private volatile SchedulerStats stats;
    private final boolean checkInvariants;

    EngineLoop(String modelName, Scheduler scheduler, ModelRunner runner, EngineMetrics metrics,
               boolean checkInvariants) {
        this.checkInvariants = checkInvariants;
        this.modelName = modelName;
        this.scheduler = scheduler;
        this.runner = runner;
        // NOTE: a decorated runner (fault drills, pacing) is not a DeviceSampler, so its forward is what runs.
        this.deviceSampler = runner instanceof DeviceSampler ds && ds.samplesOnDevice() ? ds : null;
        this.metrics = metrics;
        this.vocabSize = runner.config().vocabSize();
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
                drainInbox(!scheduler.hasWork());
                expireDeadlines();
                if (scheduler.hasWork()) {
                    step();
                }
                if (checkInvariants) {
                    scheduler.checkInvariants();
                }
                stats = scheduler.stats();
                lastStepNanos = System.nanoTime();
            }
        } catch (Throwable t) {
            LOG.error("engine loop of {} died", modelName, t);
            throw t;
        } finally {
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
        SchedulerOutput out = scheduler.schedule();
        if (out.chunks().isEmpty()) {
            scheduler.update(out, Map.of());
            return;
        }
        long start = System.nanoTime();
        Map<String, Integer> sampled = new HashMap<>();
        try {
            BatchInput batch = toBatch(out);
            float[] logits;
            int[] deviceIds = null;
            if (deviceSampler != null) {
                describeRows(out);
                DeviceSampler.SampledStep s = deviceSampler.forwardAndSample(batch, samplingRows);
                logits = s.hostLogits();
                deviceIds = s.ids();
            } else {
                logits = runner.forward(batch);
            }
            int row = 0;
            int hostRow = 0;
            for (ScheduledChunk c : out.chunks()) {
                if (!c.sample()) {
                    continue;
                }
                try {
                    int token;
                    boolean onDevice = deviceIds != null && samplingRows.onDevice(row);
                    metrics.sampled(onDevice);
                    if (onDevice) {
                        token = deviceIds[row];
                        if (token < 0) {
                            throw new IllegalArgumentException("logits row " + row + " has no finite value");
                        }
                    } else {
                        token = active.get(c.requestId()).sample(logits, hostRow++ * vocabSize, vocabSize);
                    }
                    sampled.put(c.requestId(), token);
                } catch (RuntimeException e) {
                    // NOTE: a row that cannot be sampled (no finite logit, no token its JSON constraint
                    // allows) is that request's problem, not its batch-mates'.
                    failRequest(c.requestId(), e);
                }
                row++;
            }
        } catch (BackendLostException e) {
            // NOTE: a dead context fails every later step too: stop, so a supervisor rebuilds this engine.
            LOG.error("engine of {} lost its backend and stops: {}", modelName, e.getMessage());
            failStep(out, e);
            lost = e;
            stopping = true;
            return;
        } catch (RuntimeException | Error e) {
            failStep(out, e);
            return;
        }
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
        metrics.step(out.numBatchedTokens(), System.nanoTime() - start);
    }

    /** Tells the device sampler, row by row, which logit rows it samples and how. */
    private void describeRows(SchedulerOutput out) {
        samplingRows.start(out.chunks().size());
        int room = deviceSampler.penaltyCapacity();
        for (ScheduledChunk c : out.chunks()) {
            if (c.sample()) {
                room -= active.get(c.requestId()).describeRow(samplingRows, room);
            }
        }
    }

    /** A failed step fails exactly its own requests, frees their blocks, and leaves the loop serving others. */
    private void failStep(SchedulerOutput out, Throwable e) {
        LOG.warn("step of {} with {} requests failed: {}", modelName, out.chunks().size(), e.toString());
        EngineStepException error = new EngineStepException("engine step failed for model " + modelName + ": " + e, e);
        for (ScheduledChunk c : out.chunks()) {
            fail(c.requestId(), error);
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

    private static BatchInput toBatch(SchedulerOutput out) {
        int n = out.numBatchedTokens();
        int seqs = out.chunks().size();
        int[] tokens = new int[n];
        int[] positions = new int[n];
        int[] starts = new int[seqs + 1];
        int[][] tables = new int[seqs][];
        int[] logitRows = new int[(int) out.chunks().stream().filter(ScheduledChunk::sample).count()];
        int t = 0;
        int row = 0;
        for (int s = 0; s < seqs; s++) {
            ScheduledChunk c = out.chunks().get(s);
            starts[s] = t;
            int[] ids = c.tokenIds();
            for (int i = 0; i < ids.length; i++) {
                tokens[t] = ids[i];
                positions[t] = c.startPosition() + i;
                t++;
            }
            tables[s] = c.blockTable();
            if (c.sample()) {
                logitRows[row++] = t - 1;
            }
        }
        starts[seqs] = t;
        return new BatchInput(tokens, positions, starts, tables, logitRows);
    }

    /** Nanotime of the last completed loop iteration (the liveness heartbeat). */
    long lastStepNanos() {
        return lastStepNanos;
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
