package dev.bulkhead.router;

import java.util.Map;

/**
 * The process view: the router's own health plus every model's, side by side.
 *
 * @param healthy      the router itself works (open, watchdog running, a valid table serving); says nothing
 *                     about any one model, so a dead model never marks the process dead
 * @param tableVersion version of the routing table serving
 * @param models       per-model health by name
 */
public record RouterHealth(boolean healthy, long tableVersion, Map<String, ModelHealth> models) {

    public RouterHealth {
        models = Map.copyOf(models);
    }

    /** Whether every model is READY. */
    public boolean allReady() {
        return models.values().stream().allMatch(m -> m.status() == HealthStatus.READY);
    }
}
