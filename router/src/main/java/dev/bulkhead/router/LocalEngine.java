package dev.bulkhead.router;

import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.TokenStream;
import dev.bulkhead.model.LoadedModel;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A model's engine in the router's own JVM ({@link Isolation#IN_PROCESS}).
 *
 * @param engine the engine
 * @param meters the registry it registered its meters in (its own)
 */
record LocalEngine(LlmEngine engine, MeterRegistry meters) implements SlotEngine {

    @Override
    public MeterRegistry engineMeters() {
        return meters;
    }

    @Override
    public CompletableFuture<Completion> generate(GenerateRequest request) {
        return engine.generate(request);
    }

    @Override
    public TokenStream stream(GenerateRequest request) {
        return engine.stream(request);
    }

    @Override
    public boolean cancel(String requestId) {
        return engine.cancel(requestId);
    }

    @Override
    public int bosId() {
        return Math.max(0, engine.tokenizer().bosId());
    }

    @Override
    public boolean isRunning() {
        return engine.isRunning();
    }

    @Override
    public Optional<String> failure() {
        return engine.failure();
    }

    @Override
    public long lastHeartbeatNanos() {
        return engine.lastHeartbeatNanos();
    }

    @Override
    public int inFlight() {
        return engine.inFlight();
    }

    @Override
    public int kvBlocksInUse() {
        return engine.stats().kv().numInUse();
    }

    @Override
    public LoadedModel model() {
        return engine.model();
    }

    @Override
    public boolean shutdown(Duration drain) {
        return engine.shutdown(drain);
    }
}
