package dev.bulkhead.langchain4j;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.TokenStream;
import dev.bulkhead.engine.chat.ChatTemplateSource;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.model.tokenizer.Tokenizer;
import dev.bulkhead.router.RoutedCompletion;
import dev.bulkhead.router.Router;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A model or alias of the router, with its fallbacks, breakers and admission. The prompt is rendered and tokenized
 * with the template and tokenizer of the alias's primary model; a fallback must share its tokenizer, as it must for
 * the server.
 */
record RouterChatBackend(Router router, String defaultModel) implements ChatBackend {

    RouterChatBackend {
        Objects.requireNonNull(router, "router");
        Objects.requireNonNull(defaultModel, "model");
    }

    private LoadedModel model(String alias) {
        return router.model(alias).orElseThrow(() -> new IllegalArgumentException("the router serves no model '"
                + alias + "' (its routes: " + router.routingTable().routes().keySet() + ")"));
    }

    @Override
    public Optional<ChatTemplateSource> template(String model) {
        return ChatTemplateSource.of(model(model));
    }

    @Override
    public Tokenizer tokenizer(String model) {
        return model(model).tokenizer();
    }

    @Override
    public int contextTokens(String model) {
        // NOTE: the checkpoint's context; the router does not expose its engine's (possibly lower) max_model_len.
        return model(model).config().maxPositionEmbeddings();
    }

    @Override
    public CompletableFuture<Completion> generate(String model, GenerateRequest request) {
        CompletableFuture<RoutedCompletion> routed = router.submit(model, request);
        CompletableFuture<Completion> out = routed.thenApply(RoutedCompletion::completion);
        // NOTE: cancelling what the caller holds must reach the router, which then aborts the request.
        out.whenComplete((c, e) -> {
            if (out.isCancelled()) {
                routed.cancel(true);
            }
        });
        return out;
    }

    @Override
    public TokenStream stream(String model, GenerateRequest request) {
        return router.stream(model, request).tokens();
    }
}
