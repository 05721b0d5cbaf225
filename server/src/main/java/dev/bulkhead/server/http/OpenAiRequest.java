package dev.bulkhead.server.http;

import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.chat.ChatTools;
import java.util.List;
import java.util.Map;

/**
 * A validated {@code /v1/completions} or {@code /v1/chat/completions} request.
 *
 * @param chat           true for chat completions
 * @param model          requested model or alias
 * @param prompts        the completion's prompts, each answered with {@code n} choices (empty for chat)
 * @param messages       chat messages as the chat template expects them (chat), or null
 * @param sampling       sampling and stop settings
 * @param n              how many choices to generate per prompt (1..8)
 * @param stream         send SSE chunks
 * @param includeUsage   {@code stream_options.include_usage}: a last chunk with usage
 * @param tools          the chat request's tools and tool choice ({@link ChatTools#NONE} for completions)
 */
record OpenAiRequest(boolean chat, String model, List<CompletionPrompt> prompts,
                     List<Map<String, Object>> messages, SamplingParams sampling, int n, boolean stream,
                     boolean includeUsage, ChatTools tools) {

    /** This request with other sampling settings. */
    OpenAiRequest withSampling(SamplingParams s) {
        return new OpenAiRequest(chat, model, prompts, messages, s, n, stream, includeUsage, tools);
    }
}
