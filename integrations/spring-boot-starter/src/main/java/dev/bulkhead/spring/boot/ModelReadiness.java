package dev.bulkhead.spring.boot;

import java.util.Map;

/**
 * Per-model readiness, from an engine or a router, for the health contributor. Read on every health request, so a
 * router whose config reload adds a model reports it at once.
 */
@FunctionalInterface
interface ModelReadiness {

    /**
     * One model's state.
     *
     * @param ready     whether it takes traffic now
     * @param status    the engine's or router's own word for it ({@code READY}, {@code DEGRADED}, {@code DEAD}, ...)
     * @param reason    why it is not ready, or empty
     * @param inFlight  requests it holds
     * @param kvBlocks  KV blocks in use
     */
    record State(boolean ready, String status, String reason, int inFlight, int kvBlocks) {
    }

    /** Every model's state, by name. */
    Map<String, State> models();
}
