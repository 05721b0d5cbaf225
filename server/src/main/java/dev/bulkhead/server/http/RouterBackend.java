package dev.bulkhead.server.http;

import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.TokenStream;
import dev.bulkhead.engine.chat.ChatTemplateSource;
import dev.bulkhead.model.LoadedModel;
import dev.bulkhead.model.tokenizer.Tokenizer;
import dev.bulkhead.router.ModelHealth;
import dev.bulkhead.router.RoutedCompletion;
import dev.bulkhead.router.RoutedStream;
import dev.bulkhead.router.Router;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * Several models behind a {@link Router}: fallbacks, admission and breakers apply to every request. The backend
 * owns the router and closes it.
 *
 * <p>A streamed request is routed token by token ({@link Router#stream}): a model that fails before its first
 * token is passed over, and cancelling it (client gone) aborts it. Router models are served without a chat template
 * (the router does not expose the loaded model), so chat uses the plain fallback prompt.
 */
public final class RouterBackend implements ModelBackend {

    private final Router router;

    public RouterBackend(Router router) {
        this.router = Objects.requireNonNull(router, "router");
    }

    @Override
    public List<String> models() {
        Set<String> names = new LinkedHashSet<>(router.routingTable().routes().keySet());
        names.addAll(router.health().models().keySet());
        return new ArrayList<>(names);
    }

    @Override
    public boolean serves(String model) {
        // NOTE: the router decides (NO_ROUTE maps to 404), so a table reload is honoured at once.
        return true;
    }

    @Override
    public CompletableFuture<ServedCompletion> complete(String model, GenerateRequest request) {
        CompletableFuture<RoutedCompletion> f = router.submit(model, request);
        CompletableFuture<ServedCompletion> out =
                f.thenApply(r -> new ServedCompletion(r.completion(), r.servedBy(), r.degraded()));
        out.whenComplete((c, e) -> {
            if (out.isCancelled()) {
                f.cancel(true);
            }
        });
        return out;
    }

    @Override
    public TokenStream stream(String model, GenerateRequest request) {
        return streamServed(model, request).tokens();
    }

    @Override
    public ServedStream streamServed(String model, GenerateRequest request) {
        RoutedStream rs = router.stream(model, request);
        // NOTE: the router completes the origin before it publishes the first delta, as CompletionHandler expects.
        return new ServedStream(rs.tokens(), rs.origin().thenApply(o -> new Origin(o.servedBy(), o.degraded())));
    }

    @Override
    public Optional<ChatTemplateSource> chatTemplate(String model) {
        return router.model(model).flatMap(ChatTemplateSource::of);
    }

    @Override
    public Optional<Tokenizer> tokenizer(String model) {
        return router.model(model).map(LoadedModel::tokenizer);
    }

    @Override
    public OptionalInt contextTokens(String model) {
        // NOTE: the checkpoint's own context, which bounds the engine's; the router does not expose the engine's.
        return router.model(model).map(m -> OptionalInt.of(m.config().maxPositionEmbeddings()))
                .orElse(OptionalInt.empty());
    }

    @Override
    public Map<String, Readiness> readiness() {
        Map<String, Readiness> out = new LinkedHashMap<>();
        // NOTE: sorted by name, since the router's health map has no order and /ready should read the same each time.
        for (ModelHealth h : new TreeMap<>(router.health().models()).values()) {
            out.put(h.model(), new Readiness(h.ready(), h.status().name(), h.kvBlocksInUse(), h.reason(),
                    h.isolation().configName(), h.worker()));
        }
        return out;
    }

    @Override
    public List<String> workerMetrics() {
        // NOTE: bounded per worker, in parallel: a hung worker costs a scrape half a second, never the scrape itself.
        return List.copyOf(router.workerMetrics(java.time.Duration.ofMillis(500)).values());
    }

    @Override
    public boolean healthy() {
        return router.health().healthy();
    }

    @Override
    public void close() {
        router.close();
    }
}
