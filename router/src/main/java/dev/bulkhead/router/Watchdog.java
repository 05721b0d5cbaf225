package dev.bulkhead.router;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.FinishReason;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One platform thread that watches every model: liveness from the engine loop's heartbeat, readiness from a
 * real one-token forward step within its deadline, and restarts (done by the model itself, on its own thread)
 * when a loop died, stopped beating or hit an OutOfMemoryError. Never blocks on a model, so one stuck model
 * cannot delay the checks of the others. Also polls the config file for hot reload.
 */
final class Watchdog implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(Watchdog.class);

    private record Probe(CompletableFuture<Completion> future, long startNanos, int generation) {
    }

    private final List<ModelSlot> slots;
    private final WatchdogSpec spec;
    private final Runnable reload;
    private final Map<ModelSlot, Probe> probes = new HashMap<>();
    private final Map<ModelSlot, Long> lastProbe = new HashMap<>();
    private final Thread thread;
    private volatile boolean stopping;

    Watchdog(List<ModelSlot> slots, WatchdogSpec spec, Runnable reload) {
        this.slots = List.copyOf(slots);
        this.spec = spec;
        this.reload = reload;
        this.thread = Thread.ofPlatform().daemon().name("bulkhead-router-watchdog").unstarted(this);
    }

    void start() {
        thread.start();
    }

    boolean isRunning() {
        return thread.isAlive() && !stopping;
    }

    void stop() {
        stopping = true;
        thread.interrupt();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void run() {
        long lastReload = System.nanoTime();
        while (!stopping) {
            long now = System.nanoTime();
            for (ModelSlot s : slots) {
                try {
                    check(s, now);
                } catch (RuntimeException e) {
                    LOG.warn("watchdog check of {} failed: {}", s.name(), e.toString());
                }
            }
            if (now - lastReload >= TimeUnit.MILLISECONDS.toNanos(spec.reloadMillis())) {
                lastReload = now;
                try {
                    reload.run();
                } catch (RuntimeException e) {
                    LOG.warn("config reload failed: {}", e.toString());
                }
            }
            try {
                Thread.sleep(spec.tickMillis());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void check(ModelSlot slot, long now) {
        if (slot.needsRetry()) {
            slot.restart("retrying the failed load");
            return;
        }
        if (slot.engine() == null) {
            probes.remove(slot);
            return;
        }
        String problem = slot.livenessProblem(now);
        if (problem != null) {
            probes.remove(slot);
            slot.restart(problem);
            return;
        }
        HealthSpec h = slot.spec().health();
        Probe p = probes.get(slot);
        if (p != null && p.generation() != slot.generation()) {
            probes.remove(slot);
            p = null;
        }
        if (p != null) {
            long age = now - p.startNanos();
            if (p.future().isDone()) {
                probes.remove(slot);
                finish(slot, p, age);
            } else if (age > TimeUnit.MILLISECONDS.toNanos(h.readinessTimeoutMillis())) {
                probes.remove(slot);
                p.future().cancel(true);
                slot.readiness(p.generation(), false, "readiness probe took longer than " + h.readinessTimeoutMillis()
                        + " ms");
            }
            return;
        }
        Long last = lastProbe.get(slot);
        if (last == null || now - last >= TimeUnit.MILLISECONDS.toNanos(h.readinessIntervalMillis())) {
            lastProbe.put(slot, now);
            int gen = slot.generation();
            probes.put(slot, new Probe(slot.probe(TimeUnit.MILLISECONDS.toNanos(h.readinessTimeoutMillis())), now, gen));
        }
    }

    private void finish(ModelSlot slot, Probe p, long ageNanos) {
        Completion c;
        try {
            c = p.future().join();
        } catch (RuntimeException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            slot.readiness(p.generation(), false, "readiness probe failed: " + cause.getMessage());
            return;
        }
        if (c.finishReason() == FinishReason.ABORT) {
            slot.readiness(p.generation(), false, "readiness probe missed its deadline");
            return;
        }
        slot.latency().observe(ageNanos, Math.max(1, c.tokenIds().length));
        if (slot.faults().enabled() && slot.faults().active(slot.name(), Fault.READINESS_FAILURE)) {
            slot.readiness(p.generation(), false, "readiness probe failed (injected)");
            return;
        }
        slot.readiness(p.generation(), true, "");
    }
}
