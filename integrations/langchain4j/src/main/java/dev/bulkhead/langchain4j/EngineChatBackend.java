package dev.bulkhead.langchain4j;

import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.TokenStream;
import dev.bulkhead.engine.chat.ChatTemplateSource;
import dev.bulkhead.model.tokenizer.Tokenizer;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** One in-process engine; a request's model name is only reported back, since the engine serves one model. */
record EngineChatBackend(LlmEngine engine, String defaultModel) implements ChatBackend {

    EngineChatBackend {
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(defaultModel, "model name");
    }

    @Override
    public Optional<ChatTemplateSource> template(String model) {
        return ChatTemplateSource.of(engine.model());
    }

    @Override
    public Tokenizer tokenizer(String model) {
        return engine.tokenizer();
    }

    @Override
    public int contextTokens(String model) {
        return engine.maxModelLen();
    }

    @Override
    public CompletableFuture<Completion> generate(String model, GenerateRequest request) {
        return engine.generate(request);
    }

    @Override
    public TokenStream stream(String model, GenerateRequest request) {
        return engine.stream(request);
    }
}
