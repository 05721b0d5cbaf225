package dev.bulkhead.server.http;

import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.TokenStream;
import dev.bulkhead.engine.chat.ChatTemplateSource;
import dev.bulkhead.model.tokenizer.Tokenizer;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;

/**
 * One {@link LlmEngine} served under one model name, with real token streaming. The backend owns the engine and
 * closes it.
 */
public final class EngineBackend implements ModelBackend {

    private final String name;
    private final LlmEngine engine;

    public EngineBackend(String name, LlmEngine engine) {
        this.name = Objects.requireNonNull(name, "name");
        this.engine = Objects.requireNonNull(engine, "engine");
    }

    /** The engine served. */
    public LlmEngine engine() {
        return engine;
    }

    @Override
    public List<String> models() {
        return List.of(name);
    }

    @Override
    public CompletableFuture<ServedCompletion> complete(String model, GenerateRequest request) {
        check(model);
        CompletableFuture<dev.bulkhead.engine.api.Completion> f = engine.generate(request);
        CompletableFuture<ServedCompletion> out = f.thenApply(c -> new ServedCompletion(c, name, false));
        // NOTE: cancelling the derived future must reach the engine, which frees the request's KV blocks.
        out.whenComplete((c, e) -> {
            if (out.isCancelled()) {
                f.cancel(true);
            }
        });
        return out;
    }

    @Override
    public TokenStream stream(String model, GenerateRequest request) {
        check(model);
        return engine.stream(request);
    }

    private void check(String model) {
        if (!name.equals(model)) {
            throw ApiException.unknownModel(model);
        }
    }

    @Override
    public Optional<ChatTemplateSource> chatTemplate(String model) {
        return ChatTemplateSource.of(engine.model());
    }

    @Override
    public Optional<Tokenizer> tokenizer(String model) {
        return name.equals(model) ? Optional.of(engine.tokenizer()) : Optional.empty();
    }

    @Override
    public OptionalInt contextTokens(String model) {
        return name.equals(model) ? OptionalInt.of(engine.maxModelLen()) : OptionalInt.empty();
    }

    @Override
    public Map<String, Readiness> readiness() {
        boolean running = engine.isRunning();
        return Map.of(name, new Readiness(running, running ? "READY" : "DEAD",
                engine.stats().kv().numInUse(), running ? "" : "engine loop stopped"));
    }

    @Override
    public boolean healthy() {
        return engine.isRunning();
    }

    @Override
    public void close() {
        engine.close();
    }
}
