package dev.bulkhead.router;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns drill faults on and off per model. Refuses everything unless the config enabled fault injection, so a
 * production router cannot be broken by accident. Owned by one router; models outside it are refused.
 */
public final class FaultInjector {

    private static final Logger LOG = LoggerFactory.getLogger(FaultInjector.class);

    private final FaultSpec spec;
    private final Set<String> models;
    private final Map<String, Set<Fault>> active = new ConcurrentHashMap<>();
    private volatile boolean corruptTableUpdates;

    FaultInjector(FaultSpec spec, Set<String> models) {
        this.spec = spec;
        this.models = Set.copyOf(models);
        spec.inject().forEach((m, faults) -> faults.forEach(f -> inject(m, f)));
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
        active.computeIfAbsent(model, k -> ConcurrentHashMap.newKeySet()).add(fault);
        LOG.warn("fault drill: {} injected into {}", fault, model);
    }

    /** Turns a per-model fault off (a hung step resumes). */
    public void clear(String model, Fault fault) {
        check(model, fault);
        Set<Fault> s = active.get(model);
        if (s != null && s.remove(fault)) {
            LOG.warn("fault drill: {} cleared from {}", fault, model);
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
        long until = System.nanoTime() + spec.hangMillis() * 1_000_000;
        while (active(model, Fault.HUNG_STEP) && System.nanoTime() - until < 0) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
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
