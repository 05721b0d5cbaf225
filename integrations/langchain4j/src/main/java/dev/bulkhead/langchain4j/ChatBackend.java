package dev.bulkhead.langchain4j;

import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.TokenStream;
import dev.bulkhead.engine.chat.ChatTemplateSource;
import dev.bulkhead.model.tokenizer.Tokenizer;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * What a chat model needs from whatever generates: one {@code LlmEngine} ({@link EngineChatBackend}) or a model (or
 * alias) of the {@code Router} ({@link RouterChatBackend}). Tests put a scripted one behind the same mapping code.
 */
interface ChatBackend {

    /** The model answered when a request names none. */
    String defaultModel();

    /** The chat template of {@code model}, when it ships one. */
    Optional<ChatTemplateSource> template(String model);

    /** The tokenizer of {@code model}: prompts are tokenized here so that usage can count them. */
    Tokenizer tokenizer(String model);

    /** The longest prompt plus output {@code model} takes, in tokens. */
    int contextTokens(String model);

    /** The whole answer; cancelling the future aborts the request. */
    CompletableFuture<Completion> generate(String model, GenerateRequest request);

    /** The answer token by token; cancelling the subscription aborts the request and frees its KV blocks. */
    TokenStream stream(String model, GenerateRequest request);
}
