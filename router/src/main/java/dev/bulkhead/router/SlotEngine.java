package dev.bulkhead.router;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.TokenStream;
import dev.bulkhead.model.LoadedModel;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The one seam between a {@link ModelSlot} and the engine it supervises: an {@code LlmEngine} in this JVM
 * ({@link LocalEngine}) or one in a worker process ({@link WorkerEngine}). Everything above it (routing, breakers,
 * admission, readiness, restarts) is the same for both. The contracts are {@code LlmEngine}'s.
 */
interface SlotEngine {

    /**
     * Queues a request; see {@code LlmEngine.generate}.
     *
     * @throws dev.bulkhead.engine.InvalidRequestException the request can never be served (nothing is queued)
     * @throws IllegalStateException                       the engine is closed, stopped or its worker is gone
     */
    CompletableFuture<Completion> generate(GenerateRequest request);

    /** Queues a streamed request; see {@code LlmEngine.stream}. Throws as {@link #generate}. */
    TokenStream stream(GenerateRequest request);

    /** Aborts a request by id; false when it is not in flight. */
    boolean cancel(String requestId);

    /** The model's BOS id (the readiness probe's prompt), or 0 when it has none. */
    int bosId();

    /** Whether it serves: the engine loop is alive (and, for a worker, the process and its connection are healthy). */
    boolean isRunning();

    /** Why it stopped serving for good, when it did. */
    Optional<String> failure();

    /** {@link System#nanoTime()} of the engine loop's last iteration, in this process's clock. */
    long lastHeartbeatNanos();

    /** Requests the engine holds. */
    int inFlight();

    /** KV blocks held by requests. */
    int kvBlocksInUse();

    /** The checkpoint: tokenizer, chat template and config for the HTTP layer. */
    LoadedModel model();

    /** The registry holding the engine's own meters, or null when they live in a worker process. */
    default io.micrometer.core.instrument.MeterRegistry engineMeters() {
        return null;
    }

    /** The worker process, or null for an engine in this JVM. */
    default WorkerEngine worker() {
        return null;
    }

    /** Stops accepting, waits up to {@code drain}, aborts the rest and releases everything. */
    boolean shutdown(Duration drain);
}
