package dev.bulkhead.server.http;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.TokenStream;
import dev.bulkhead.engine.chat.ChatTemplateSource;
import dev.bulkhead.model.tokenizer.Tokenizer;
import dev.bulkhead.router.WorkerStatus;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;

/**
 * What the HTTP layer needs from whatever serves the models: one {@code LlmEngine} ({@link EngineBackend}) or the
 * multi-model {@code Router} ({@link RouterBackend}). Errors surface as the engine's and router's own exceptions
 * ({@code InvalidRequestException}, {@code RouterRejectedException}); {@link ErrorResponses} maps them.
 */
public interface ModelBackend extends AutoCloseable {

    /** Names a client may put in {@code model}. */
    List<String> models();

    /** Whether {@code model} is one of {@link #models()}. */
    default boolean serves(String model) {
        return models().contains(model);
    }

    /** Generates the whole answer; the future fails with the backend's exception. Cancelling it aborts. */
    CompletableFuture<ServedCompletion> complete(String model, GenerateRequest request);

    /** Streams the answer token by token; cancelling the subscription aborts the request and frees its blocks. */
    TokenStream stream(String model, GenerateRequest request);

    /**
     * As {@link #stream}, plus who answers: known once the first delta arrives at the latest, so the HTTP layer can
     * put it in headers before the first chunk. The default serves {@code model} itself, never degraded.
     */
    default ServedStream streamServed(String model, GenerateRequest request) {
        return new ServedStream(stream(model, request), CompletableFuture.completedFuture(new Origin(model, false)));
    }

    /** The model's chat template source and the variables it expects, when it ships one. */
    Optional<ChatTemplateSource> chatTemplate(String model);

    /** The model's tokenizer, to name the tokens of {@code logprobs}; empty when the backend does not expose it. */
    default Optional<Tokenizer> tokenizer(String model) {
        return Optional.empty();
    }

    /**
     * The longest prompt plus output {@code model} accepts, in tokens, when known. The HTTP layer bounds a prompt's
     * length in characters by it before tokenizing ({@link PromptLimits}); the default knows nothing.
     */
    default OptionalInt contextTokens(String model) {
        return OptionalInt.empty();
    }

    /** Per-model readiness, keyed by model name. */
    Map<String, Readiness> readiness();

    /** Whether the serving process itself is alive (its models may still be individually unready). */
    boolean healthy();

    @Override
    void close();

    /**
     * A finished answer and who produced it.
     *
     * @param completion the engine's completion
     * @param servedBy   the model that answered (differs from the requested one after a router fallback)
     * @param degraded   true when a fallback answered
     */
    record ServedCompletion(Completion completion, String servedBy, boolean degraded) {
    }

    /**
     * Who produced (or is producing) an answer.
     *
     * @param servedBy the model that answered (another than the requested one after a router fallback)
     * @param degraded true when a fallback answered
     */
    record Origin(String servedBy, boolean degraded) {
    }

    /**
     * A token stream and its origin.
     *
     * @param tokens the stream
     * @param origin completes with who answers no later than the stream's first delta; may fail with the stream
     */
    record ServedStream(TokenStream tokens, CompletableFuture<Origin> origin) {
    }

    /**
     * One model's readiness.
     *
     * @param ready         whether it takes traffic now
     * @param status        a short state name
     * @param kvBlocksInUse KV blocks held by requests
     * @param reason        why it is not ready, or empty
     * @param isolation     {@code process} or {@code in-process} for a router's model, else null
     * @param worker        its worker process while one runs, else null
     */
    record Readiness(boolean ready, String status, int kvBlocksInUse, String reason, String isolation,
                     WorkerStatus worker) {

        /** A model served in this process. */
        public Readiness(boolean ready, String status, int kvBlocksInUse, String reason) {
            this(ready, status, kvBlocksInUse, reason, null, null);
        }
    }

    /**
     * Prometheus texts to show on {@code /metrics} beside this process's registry: one per worker process, whose
     * series carry their model's tag. Empty by default.
     */
    default List<String> workerMetrics() {
        return List.of();
    }
}
