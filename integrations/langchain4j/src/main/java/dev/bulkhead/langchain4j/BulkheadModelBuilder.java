package dev.bulkhead.langchain4j;

import dev.bulkhead.engine.LlmEngine;
import dev.bulkhead.router.Router;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.DefaultChatRequestParameters;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The options {@link BulkheadChatModel} and {@link BulkheadStreamingChatModel} share: what generates (an engine, or a
 * model or alias of a router) and the default request parameters, which a request's own parameters override.
 *
 * @param <B> the concrete builder
 */
public abstract class BulkheadModelBuilder<B extends BulkheadModelBuilder<B>> {

    private ChatBackend backend;
    private String modelName;
    private final DefaultChatRequestParameters.Builder<?> parameters = ChatRequestParameters.builder();
    private ChatRequestParameters explicitParameters;
    private Long seed;
    private Duration timeout;
    private List<ChatModelListener> listeners = List.of();

    /** Subclasses only. */
    protected BulkheadModelBuilder() {
    }

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /**
     * Generates with {@code engine}, which the caller opened and closes.
     *
     * @param engine an open engine
     * @return this builder
     */
    public B engine(LlmEngine engine) {
        this.backend = new EngineChatBackend(engine, engine.name());
        return self();
    }

    /**
     * Generates through {@code router}, by {@code model} (a model or an alias with fallbacks) unless a request names
     * another ({@code modelName} of its parameters). Needs {@code bulkhead-router} on the class path.
     *
     * @param router a started router, which the caller closes
     * @param model  the model or alias answered by default
     * @return this builder
     */
    public B router(Router router, String model) {
        this.backend = new RouterChatBackend(router, model);
        return self();
    }

    /** Package-private: tests put a scripted backend behind the real mapping code. */
    B backend(ChatBackend backend) {
        this.backend = backend;
        return self();
    }

    /**
     * The model name reported in responses of an engine-backed model (the engine's {@code name()} unless given).
     *
     * @param modelName the name
     * @return this builder
     */
    public B modelName(String modelName) {
        this.modelName = Objects.requireNonNull(modelName, "modelName");
        return self();
    }

    /**
     * Default temperature (0 is greedy; the engine's default is 1).
     *
     * @param temperature 0 to 2
     * @return this builder
     */
    public B temperature(Double temperature) {
        parameters.temperature(temperature);
        return self();
    }

    /**
     * Default nucleus sampling bound.
     *
     * @param topP in (0, 1]
     * @return this builder
     */
    public B topP(Double topP) {
        parameters.topP(topP);
        return self();
    }

    /**
     * Default top-k (0 for none).
     *
     * @param topK the number of most likely tokens kept
     * @return this builder
     */
    public B topK(Integer topK) {
        parameters.topK(topK);
        return self();
    }

    /**
     * Default limit on generated tokens; without one an answer may run to the end of the model's context.
     *
     * @param maxTokens at least 1
     * @return this builder
     */
    public B maxTokens(Integer maxTokens) {
        parameters.maxOutputTokens(maxTokens);
        return self();
    }

    /**
     * Default stop strings (at most 16).
     *
     * @param stopSequences strings that end the answer, not included in it
     * @return this builder
     */
    public B stopSequences(List<String> stopSequences) {
        parameters.stopSequences(stopSequences);
        return self();
    }

    /**
     * Default frequency penalty.
     *
     * @param penalty -2 to 2
     * @return this builder
     */
    public B frequencyPenalty(Double penalty) {
        parameters.frequencyPenalty(penalty);
        return self();
    }

    /**
     * Default presence penalty.
     *
     * @param penalty -2 to 2
     * @return this builder
     */
    public B presencePenalty(Double penalty) {
        parameters.presencePenalty(penalty);
        return self();
    }

    /**
     * All default parameters at once; they replace those set one by one.
     *
     * @param parameters LangChain4j's request parameters
     * @return this builder
     */
    public B defaultRequestParameters(ChatRequestParameters parameters) {
        this.explicitParameters = parameters;
        return self();
    }

    /**
     * A sampling seed for every request: the same seed and request give the same answer.
     *
     * @param seed the seed, or null for a random one
     * @return this builder
     */
    public B seed(Long seed) {
        this.seed = seed;
        return self();
    }

    /**
     * A deadline per request: the engine aborts it when it runs longer (finish reason {@code OTHER}).
     *
     * @param timeout the longest a request may take, or null for none
     * @return this builder
     */
    public B timeout(Duration timeout) {
        this.timeout = timeout;
        return self();
    }

    /**
     * Listeners LangChain4j calls around each request.
     *
     * @param listeners the listeners
     * @return this builder
     */
    public B listeners(List<ChatModelListener> listeners) {
        this.listeners = List.copyOf(listeners);
        return self();
    }

    private ChatBackend resolvedBackend() {
        if (backend == null) {
            throw new IllegalStateException("give engine(...) or router(...) before build()");
        }
        if (modelName != null && backend instanceof EngineChatBackend e) {
            return new EngineChatBackend(e.engine(), modelName);
        }
        return backend;
    }

    ChatRequestMapper mapper() {
        return new ChatRequestMapper(resolvedBackend(), seed, timeout);
    }

    ChatRequestParameters defaults() {
        ChatRequestParameters p = explicitParameters != null ? explicitParameters : parameters.build();
        // NOTE: a router-backed model answers the request's modelName, so the default names the builder's alias.
        return p.modelName() != null ? p
                : ChatRequestParameters.builder().modelName(resolvedBackend().defaultModel()).build().overrideWith(p);
    }

    List<ChatModelListener> listenerList() {
        return listeners;
    }
}
