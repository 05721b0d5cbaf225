package dev.bulkhead.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.scheduler.FinishReason;
import java.io.UncheckedIOException;

/**
 * OpenAI's response and chunk shapes for one request ({@code text_completion}, {@code chat.completion},
 * {@code chat.completion.chunk}).
 *
 * @param json    the mapper
 * @param id      response id ({@code cmpl-...} or {@code chatcmpl-...})
 * @param created creation time in epoch seconds
 * @param chat    chat shapes rather than completion shapes
 */
record ResponseBodies(ObjectMapper json, String id, long created, boolean chat) {

    /** Value of {@code system_fingerprint}: names the engine, so clients can tell who answered. */
    static final String FINGERPRINT = "bulkhead";

    /** The non-streamed response of the requested model itself. */
    byte[] completion(String model, Completion c) {
        return completion(model, c, new ModelBackend.Origin(model, false));
    }

    /**
     * The non-streamed response; a degraded answer (a router fallback) also carries the extension object
     * {@code "bulkhead": {"served_by": ..., "degraded": true}}, which OpenAI clients ignore.
     */
    byte[] completion(String model, Completion c, ModelBackend.Origin origin) {
        ObjectNode root = head(model, chat ? "chat.completion" : "text_completion");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        if (chat) {
            ObjectNode msg = choice.putObject("message");
            msg.put("role", "assistant");
            msg.put("content", c.text());
        } else {
            choice.put("text", c.text());
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason(c.finishReason()));
        usage(root, c.promptTokenIds().length, c.tokenIds().length);
        if (origin.degraded()) {
            root.putObject("bulkhead").put("served_by", origin.servedBy()).put("degraded", true);
        }
        return bytes(root);
    }

    /**
     * One streamed chunk with {@code text} and, on the last, the finish reason; {@code first} adds the assistant
     * role to a chat delta. {@code withUsageField} adds {@code "usage": null}, as OpenAI does when usage is asked.
     */
    byte[] chunk(String model, String text, FinishReason finish, boolean first, boolean withUsageField) {
        ObjectNode root = head(model, chat ? "chat.completion.chunk" : "text_completion");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        if (chat) {
            ObjectNode delta = choice.putObject("delta");
            if (first) {
                delta.put("role", "assistant");
            }
            if (!text.isEmpty() || finish == null) {
                delta.put("content", text);
            }
        } else {
            choice.put("text", text);
        }
        choice.putNull("logprobs");
        if (finish == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finishReason(finish));
        }
        if (withUsageField) {
            root.putNull("usage");
        }
        return bytes(root);
    }

    /** The last chunk of {@code stream_options.include_usage}: no choices, just usage. */
    byte[] usageChunk(String model, int promptTokens, int completionTokens) {
        ObjectNode root = head(model, chat ? "chat.completion.chunk" : "text_completion");
        root.putArray("choices");
        usage(root, promptTokens, completionTokens);
        return bytes(root);
    }

    private ObjectNode head(String model, String object) {
        ObjectNode root = json.createObjectNode();
        root.put("id", id);
        root.put("object", object);
        root.put("created", created);
        root.put("model", model);
        root.put("system_fingerprint", FINGERPRINT);
        return root;
    }

    private static void usage(ObjectNode root, int prompt, int completion) {
        ObjectNode u = root.putObject("usage");
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
    }

    /** OpenAI's names; an aborted request (deadline, shutdown) reports {@code abort}, as vLLM does. */
    static String finishReason(FinishReason r) {
        return switch (r) {
            case STOP -> "stop";
            case LENGTH -> "length";
            default -> "abort";
        };
    }

    private byte[] bytes(ObjectNode root) {
        try {
            return json.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
