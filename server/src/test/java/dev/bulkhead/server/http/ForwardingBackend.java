package dev.bulkhead.server.http;

import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.TokenStream;
import dev.bulkhead.engine.chat.ChatTemplateSource;
import dev.bulkhead.model.tokenizer.Tokenizer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;

/** A {@link ModelBackend} that passes every call to another, for tests that watch or slow down some of them. */
class ForwardingBackend implements ModelBackend {

    protected final ModelBackend delegate;

    ForwardingBackend(ModelBackend delegate) {
        this.delegate = delegate;
    }

    @Override
    public List<String> models() {
        return delegate.models();
    }

    @Override
    public boolean serves(String model) {
        return delegate.serves(model);
    }

    @Override
    public CompletableFuture<ServedCompletion> complete(String model, GenerateRequest request) {
        return delegate.complete(model, request);
    }

    @Override
    public TokenStream stream(String model, GenerateRequest request) {
        return delegate.stream(model, request);
    }

    @Override
    public ServedStream streamServed(String model, GenerateRequest request) {
        return delegate.streamServed(model, request);
    }

    @Override
    public Optional<ChatTemplateSource> chatTemplate(String model) {
        return delegate.chatTemplate(model);
    }

    @Override
    public Optional<Tokenizer> tokenizer(String model) {
        return delegate.tokenizer(model);
    }

    @Override
    public OptionalInt contextTokens(String model) {
        return delegate.contextTokens(model);
    }

    @Override
    public Map<String, Readiness> readiness() {
        return delegate.readiness();
    }

    @Override
    public boolean healthy() {
        return delegate.healthy();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
