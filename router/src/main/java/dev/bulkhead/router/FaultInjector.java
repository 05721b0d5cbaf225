package dev.bulkhead.router;

import dev.bulkhead.cuemu.CudaEmulator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns drill faults on and off per model. Refuses everything unless the config enabled fault injection, so a
 * production router cannot be broken by accident. Owned by one router (or by one worker process, for its model);
 * models outside it are refused. A model served by a worker process has a {@link Forwarder}: its faults are sent
 * to the worker, whose own injector acts on them.
 */
public final class FaultInjector {

    private static final Logger LOG = LoggerFactory.getLogger(FaultInjector.class);
    // NOTE: a kernel every decode step launches, so the fault lands on the next step of whoever runs one.
    private static final String CUDA_FAULT = "launch:bk_silu_mul:1";

    /** Sends a fault change to the worker process of one model; false when no worker is connected now. */
    interface Forwarder {
        boolean send(Fault fault, boolean on);
    }

    private final FaultSpec spec;
    private final Set<String> models;
    private final Map<String, Set<Fault>> active = new ConcurrentHashMap<>();
    private final Set<String> hanging = ConcurrentHashMap.newKeySet();
    private final Map<String, Forwarder> forwarders = new ConcurrentHashMap<>();
    private final Map<String, Thread> runaways = new ConcurrentHashMap<>();
    private volatile boolean corruptTableUpdates;

    FaultInjector(FaultSpec spec, Set<String> models) {
        this.spec = spec;
        this.models = Set.copyOf(models);
        spec.inject().forEach((m, faults) -> faults.forEach(f -> inject(m, f)));
    }

    /** The injector of a worker process: drills of its one model, as the router's config enabled them. */
    public static FaultInjector forWorker(FaultSpec spec, String model) {
        return new FaultInjector(spec, Set.of(model));
    }

    /** {@code base} with this injector's drills in every forward pass of {@code model}. */
    public dev.bulkhead.engine.internal.runner.ModelRunnerFactory runners(String model,
            dev.bulkhead.engine.internal.runner.ModelRunnerFactory base) {
        return spec.enabled() ? FaultyRunner.factory(model, this, base) : base;
    }

    /** Whether drills are allowed at all. */
    public boolean enabled() {
        return spec.enabled();
    }

    /** Turns a per-model fault on. */
    public void inject(String model, Fault fault) {
        check(model, fault);
        if (fault == Fault.CORRUPT_ROUTING_UPDATE) {
            throw new IllegalArgumentException(fault + " is router-wide: use corruptRoutingUpdates(true)");
        }
        LOG.warn("fault drill: {} injected into {}", fault, model);
        Forwarder f = forwarders.get(model);
        if (f != null) {
            // NOTE: a one-shot fault is spent once a worker has it; one that could not be sent waits for the next.
            boolean sent = f.send(fault, true);
            if (!fault.isOneShot() || !sent) {
                arm(model, fault);
            }
            return;
        }
        switch (fault) {
            case CUDA_ILLEGAL_ADDRESS -> {
                if (!CudaEmulator.isActive()) {
                    throw new IllegalStateException(fault + " needs the CUDA emulator (--device cuda-emulator)");
                }
                // NOTE: the emulator is one per process: in-process, whichever model launches next is hit, and the
                // primary context it poisons is every model's.
                CudaEmulator.configure("faults", CUDA_FAULT);
            }
            case SOCKET_FLOOD -> runaways.computeIfAbsent(model, m -> Thread.ofPlatform().daemon()
                    .name("bulkhead-drill-runaway-" + m).start(() -> runaway(m)));
            default -> arm(model, fault);
        }
    }

    private void arm(String model, Fault fault) {
        active.computeIfAbsent(model, k -> ConcurrentHashMap.newKeySet()).add(fault);
    }

    /** Turns a per-model fault off (a hung step resumes, a runaway thread stops). */
    public void clear(String model, Fault fault) {
        check(model, fault);
        Set<Fault> s = active.get(model);
        boolean was = s != null && s.remove(fault);
        if (fault == Fault.WORKER_HANG) {
            was |= hanging.remove(model);
        }
        Thread runaway = fault == Fault.SOCKET_FLOOD ? runaways.remove(model) : null;
        if (runaway != null) {
            runaway.interrupt();
            was = true;
        }
        Forwarder f = forwarders.get(model);
        if (f != null) {
            f.send(fault, false);
        } else if (fault == Fault.CUDA_ILLEGAL_ADDRESS && CudaEmulator.isActive()) {
            CudaEmulator.configure("faults", "");
        }
        if (was) {
            LOG.warn("fault drill: {} cleared from {}", fault, model);
        }
    }

    /**
     * Consumes a one-shot fault of {@code model}: true exactly once per injection. A {@link Fault#WORKER_HANG} that
     * fires keeps the model hanging until it is cleared.
     */
    public boolean fire(String model, Fault fault) {
        Set<Fault> s = active.get(model);
        if (s == null || !s.remove(fault)) {
            return false;
        }
        if (fault == Fault.WORKER_HANG) {
            hanging.add(model);
        }
        LOG.warn("fault drill: {} fires in {}", fault, model);
        return true;
    }

    /** Whether a fired {@link Fault#WORKER_HANG} holds {@code model} now. */
    public boolean hanging(String model) {
        return hanging.contains(model);
    }

    /** Routes {@code model}'s faults to its worker process from now on (null: act on them here again). */
    void forward(String model, Forwarder f) {
        if (f == null) {
            forwarders.remove(model);
        } else {
            forwarders.put(model, f);
        }
    }

    /**
     * Sends a new worker of {@code model} what it must have from the start: the faults that stay on, and one-shot
     * faults that no worker took yet (which are then spent).
     */
    void replay(String model, Forwarder f) {
        Set<Fault> s = active.get(model);
        if (s == null) {
            return;
        }
        for (Fault fault : List.copyOf(s)) {
            if (fault == Fault.READINESS_FAILURE || !f.send(fault, true)) {
                continue;
            }
            if (fault.isOneShot()) {
                s.remove(fault);
            }
        }
    }

    /** While on, every routing-table update is corrupted before validation. */
    public void corruptRoutingUpdates(boolean on) {
        if (!spec.enabled()) {
            throw new IllegalStateException("fault injection is off; enable it with faults.enabled: true");
        }
        corruptTableUpdates = on;
        LOG.warn("fault drill: corrupt routing-table updates {}", on ? "on" : "off");
    }

    /** Clears every fault. */
    public void clearAll() {
        active.values().forEach(Set::clear);
        hanging.clear();
        runaways.values().forEach(Thread::interrupt);
        runaways.clear();
        corruptTableUpdates = false;
    }

    /** Whether {@code fault} is on for {@code model}. */
    public boolean active(String model, Fault fault) {
        Set<Fault> s = active.get(model);
        return s != null && s.contains(fault);
    }

    boolean corruptsTableUpdates() {
        return corruptTableUpdates;
    }

    FaultSpec spec() {
        return spec;
    }

    /**
     * The corrupted form of an update, rotating through the ways a table goes bad in transit: a target renamed
     * to nothing, a fallback cycle, a weight turned NaN, every route dropped.
     */
    RoutingTable corrupt(RoutingTable t, long n) {
        if (t.routes().isEmpty()) {
            return t;
        }
        Map<String, Route> routes = new LinkedHashMap<>(t.routes());
        String alias = routes.keySet().iterator().next();
        Route r = routes.get(alias);
        switch ((int) (n % 4)) {
            case 0 -> routes.put(alias, new Route(List.of(RouteTarget.of(alias + "\u0000corrupt")),
                    r.fallbacks()));
            case 1 -> routes.put(alias, new Route(r.targets(), List.of(alias)));
            case 2 -> routes.put(alias, new Route(List.of(new RouteTarget(
                    r.targets().isEmpty() ? alias : r.targets().getFirst().model(), Double.NaN)), r.fallbacks()));
            default -> routes.clear();
        }
        return new RoutingTable(t.version(), routes);
    }

    /** Blocks a hung step until the fault is cleared or the configured hang time passes. */
    void hangWhileActive(String model) {
        hangWhile(() -> active(model, Fault.HUNG_STEP));
    }

    /** Blocks a step of a model that a {@link Fault#WORKER_HANG} holds, until it is cleared or the hang time passes. */
    public void hangWhileHanging(String model) {
        hangWhile(() -> hanging(model));
    }

    private void hangWhile(java.util.function.BooleanSupplier held) {
        long until = System.nanoTime() + spec.hangMillis() * 1_000_000;
        while (held.getAsBoolean() && System.nanoTime() - until < 0) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** The in-process stand-in for a socket flood: a thread that burns a core until the fault is cleared. */
    private void runaway(String model) {
        byte[] junk = new byte[64 << 10];
        long sum = 0;
        while (!Thread.currentThread().isInterrupted()) {
            java.util.concurrent.ThreadLocalRandom.current().nextBytes(junk);
            sum += junk[sum == 0 ? 0 : (int) (Math.abs(sum) % junk.length)];
        }
        LOG.debug("runaway thread of {} stopped ({})", model, sum);
    }

    private void check(String model, Fault fault) {
        if (!spec.enabled()) {
            throw new IllegalStateException("fault injection is off; enable it with faults.enabled: true");
        }
        if (!models.contains(model)) {
            throw new IllegalArgumentException("no model '" + model + "' to inject " + fault + " into");
        }
    }
}
