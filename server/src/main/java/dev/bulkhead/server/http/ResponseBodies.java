package dev.bulkhead.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.scheduler.FinishReason;
import java.io.UncheckedIOException;
import java.util.List;

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

    /** The non-streamed response with one choice and no log-probabilities. */
    byte[] completion(String model, Completion c, ModelBackend.Origin origin) {
        return completion(model, List.of(c), origin, null);
    }

    /**
     * The non-streamed response: choice {@code i} is {@code cs.get(i)}; {@code logprobs} (null when not asked)
     * renders each choice's log-probabilities. Usage counts the prompt once and every choice's tokens. A degraded
     * answer (a router fallback) also carries the extension object
     * {@code "bulkhead": {"served_by": ..., "degraded": true}}, which OpenAI clients ignore.
     */
    byte[] completion(String model, List<Completion> cs, ModelBackend.Origin origin, LogprobsBodies logprobs) {
        ObjectNode root = head(model, chat ? "chat.completion" : "text_completion");
        ArrayNode choices = root.putArray("choices");
        int completionTokens = 0;
        for (int i = 0; i < cs.size(); i++) {
            Completion c = cs.get(i);
            ObjectNode choice = choices.addObject();
            choice.put("index", i);
            if (chat) {
                ObjectNode msg = choice.putObject("message");
                msg.put("role", "assistant");
                msg.put("content", c.text());
            } else {
                choice.put("text", c.text());
            }
            if (logprobs == null) {
                choice.putNull("logprobs");
            } else {
                choice.set("logprobs", chat ? logprobs.chat(c.logprobs()) : logprobs.completion(c.logprobs(), 0));
            }
            choice.put("finish_reason", finishReason(c.finishReason()));
            completionTokens += c.tokenIds().length;
        }
        usage(root, cs.get(0).promptTokenIds().length, completionTokens);
        if (origin.degraded()) {
            root.putObject("bulkhead").put("served_by", origin.servedBy()).put("degraded", true);
        }
        return bytes(root);
    }

    /** {@link #chunk(String, int, String, FinishReason, boolean, boolean, JsonNode)} of choice 0 without logprobs. */
    byte[] chunk(String model, String text, FinishReason finish, boolean first, boolean withUsageField) {
        return chunk(model, 0, text, finish, first, withUsageField, null);
    }

    /**
     * One streamed chunk of choice {@code index} with {@code text} and, on the last, the finish reason; {@code first}
     * adds the assistant role to a chat delta. {@code withUsageField} adds {@code "usage": null}, as OpenAI does when
     * usage is asked. {@code logprobs} is the chunk's log-probabilities object, or null.
     */
    byte[] chunk(String model, int index, String text, FinishReason finish, boolean first, boolean withUsageField,
                 JsonNode logprobs) {
        ObjectNode root = head(model, chat ? "chat.completion.chunk" : "text_completion");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", index);
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
        if (logprobs == null) {
            choice.putNull("logprobs");
        } else {
            choice.set("logprobs", logprobs);
        }
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
