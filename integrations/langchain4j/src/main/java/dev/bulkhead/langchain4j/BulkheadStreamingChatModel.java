package dev.bulkhead.langchain4j;

import dev.bulkhead.engine.api.TokenStream;
import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import java.util.List;
import java.util.Set;

/**
 * The streaming twin of {@link BulkheadChatModel}: the engine's token stream delivered to LangChain4j's handler one
 * piece at a time (the next is requested only after the handler returned), tool calls passed on whole, and
 * {@code context.streamingHandle().cancel()} aborting the request in the engine, which frees its KV blocks at once.
 * Callbacks run on the engine's delivery threads, never two at a time for one request.
 */
public final class BulkheadStreamingChatModel implements StreamingChatModel {

    private final ChatRequestMapper mapper;
    private final ChatRequestParameters defaults;
    private final List<ChatModelListener> listeners;

    private BulkheadStreamingChatModel(Builder b) {
        this.mapper = b.mapper();
        this.defaults = b.defaults();
        this.listeners = b.listenerList();
    }

    /**
     * A builder; give it {@code engine(...)} or {@code router(...)}.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
        PreparedChat chat;
        TokenStream stream;
        try {
            chat = mapper.prepare(request);
            stream = mapper.backend().stream(chat.model(), chat.request());
        } catch (RuntimeException e) {
            // NOTE: LangChain4j expects a streaming model to report bad requests through the handler.
            handler.onError(e);
            return;
        }
        new StreamBridge(chat, stream, handler).start();
    }

    @Override
    public ChatRequestParameters defaultRequestParameters() {
        return defaults;
    }

    @Override
    public List<ChatModelListener> listeners() {
        return listeners;
    }

    @Override
    public ModelProvider provider() {
        return ModelProvider.OTHER;
    }

    @Override
    public Set<Capability> supportedCapabilities() {
        return Set.of(Capability.RESPONSE_FORMAT_JSON_SCHEMA);
    }

    /** Builds a {@link BulkheadStreamingChatModel}. */
    public static final class Builder extends BulkheadModelBuilder<Builder> {

        private Builder() {
        }

        /**
         * The model.
         *
         * @return a streaming chat model over the engine or router given
         */
        public BulkheadStreamingChatModel build() {
            return new BulkheadStreamingChatModel(this);
        }
    }
}
