package dev.bulkhead.router;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Instant;

/**
 * One model's health, reported on its own: a failed check of one model never changes another's.
 *
 * @param model          model name
 * @param status         see {@link HealthStatus}
 * @param ready          whether the router sends it traffic now
 * @param lastHeartbeat  wall-clock time of the engine loop's last iteration, null without an engine
 * @param breakerState   its circuit breaker
 * @param restarts       restarts the watchdog attempted so far
 * @param generation     how many engines this model has had (1 after the first load)
 * @param inFlight       requests the engine holds
 * @param queued         requests admitted by the router and not finished, over all priority classes
 * @param kvBlocksInUse  KV blocks held by requests (0 when idle)
 * @param reservedBytes  memory reserved for it in the node ledger (weights + KV pool of each live engine)
 * @param reason         why it is not READY, or empty
 * @param isolation      where its engine runs
 * @param worker         its worker process while one runs, else null
 */
public record ModelHealth(String model, HealthStatus status, boolean ready, Instant lastHeartbeat,
                          CircuitBreaker.State breakerState, int restarts, int generation, int inFlight, int queued,
                          int kvBlocksInUse, long reservedBytes, String reason, Isolation isolation,
                          WorkerStatus worker) {
}
