package dev.bulkhead.langchain4j;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.chat.ToolCallExtractor;
import dev.langchain4j.model.ModelProvider;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import java.util.List;
import java.util.Set;

/**
 * A LangChain4j {@link ChatModel} answered in process by a Bulkhead engine or router: messages rendered with the
 * model's own chat template, tools offered through it and parsed back into {@code ToolExecutionRequest}s, JSON schema
 * response formats enforced by guided decoding, token usage and finish reasons reported.
 *
 * <pre>{@code
 * ChatModel model = BulkheadChatModel.builder().engine(engine).temperature(0.0).maxTokens(256).build();
 * String answer = model.chat("Tell me a story");
 * }</pre>
 *
 * The JVM needs {@code --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED}, as any engine does.
 */
public final class BulkheadChatModel implements ChatModel {

    private final ChatRequestMapper mapper;
    private final ChatRequestParameters defaults;
    private final List<ChatModelListener> listeners;

    private BulkheadChatModel(Builder b) {
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
    public ChatResponse doChat(ChatRequest request) {
        PreparedChat chat = mapper.prepare(request);
        Completion c = Futures.await(mapper.backend().generate(chat.model(), chat.request()));
        ToolCallExtractor.Split split = ToolCallExtractor.Split.of(chat.tools().extractor().push(c.text(), true),
                true, 0);
        return ChatResponseMapper.toResponse(chat.model(), c, split.text(), split.calls());
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

    /** Builds a {@link BulkheadChatModel}. */
    public static final class Builder extends BulkheadModelBuilder<Builder> {

        private Builder() {
        }

        /**
         * The model.
         *
         * @return a chat model over the engine or router given
         */
        public BulkheadChatModel build() {
            return new BulkheadChatModel(this);
        }
    }
}
