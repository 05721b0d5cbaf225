package dev.bulkhead.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulkhead.engine.api.Completion;
import dev.bulkhead.engine.api.FinishReason;
import dev.bulkhead.engine.chat.ToolCall;
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

    /**
     * What one chat choice says: its {@code content} (null when it only called tools) and its tool calls. For a
     * completion, or a chat without tools, it is the generated text and no calls.
     *
     * @param content   the text, or null
     * @param toolCalls the calls, in order
     * @param choseCalls the model chose to call (finish reason {@code tool_calls}); false for text and forced calls
     */
    record Said(String content, List<ToolCall> toolCalls, boolean choseCalls) {

        static Said text(String text) {
            return new Said(text, List.of(), false);
        }
    }

    /**
     * The non-streamed response: choice {@code i} is {@code cs.get(i)}, saying {@code said.get(i)}; {@code logprobs}
     * (null when not asked) renders each choice's log-probabilities. The choices come {@code perPrompt} to a prompt,
     * prompt-major; usage counts each prompt once and every choice's tokens. A degraded answer (a router fallback)
     * also carries the extension object {@code "bulkhead": {"served_by": ..., "degraded": true}}, which OpenAI
     * clients ignore.
     */
    byte[] completion(String model, List<Completion> cs, int perPrompt, List<Said> said, ModelBackend.Origin origin,
                      LogprobsBodies logprobs) {
        ObjectNode root = head(model, chat ? "chat.completion" : "text_completion");
        ArrayNode choices = root.putArray("choices");
        int completionTokens = 0;
        for (int i = 0; i < cs.size(); i++) {
            Completion c = cs.get(i);
            Said s = said.get(i);
            ObjectNode choice = choices.addObject();
            choice.put("index", i);
            if (chat) {
                ObjectNode msg = choice.putObject("message");
                msg.put("role", "assistant");
                msg.put("content", s.content());
                if (!s.toolCalls().isEmpty()) {
                    ArrayNode calls = msg.putArray("tool_calls");
                    s.toolCalls().forEach(t -> toolCall(calls.addObject(), t));
                }
            } else {
                choice.put("text", s.content());
            }
            if (logprobs == null) {
                choice.putNull("logprobs");
            } else {
                choice.set("logprobs", chat ? logprobs.chat(c.logprobs()) : logprobs.completion(c.logprobs(), 0));
            }
            choice.put("finish_reason", finishReason(c.finishReason(), s.choseCalls()));
            completionTokens += c.tokenIds().length;
        }
        usage(root, promptTokens(cs, perPrompt), completionTokens);
        if (origin.degraded()) {
            root.putObject("bulkhead").put("served_by", origin.servedBy()).put("degraded", true);
        }
        return bytes(root);
    }

    /**
     * One streamed chunk of choice {@code index} with {@code text}, the tool calls completed in it (numbered from
     * {@code firstCallIndex} within the choice) and, on the last, {@code finish} (OpenAI's name, null before);
     * {@code first} adds the assistant role to a chat delta. {@code withUsageField} adds {@code "usage": null}, as
     * OpenAI does when usage is asked. {@code logprobs} is the chunk's log-probabilities object, or null.
     */
    byte[] chunk(String model, int index, String text, List<ToolCall> calls, int firstCallIndex, String finish,
                 boolean first, boolean withUsageField, JsonNode logprobs) {
        ObjectNode root = head(model, chat ? "chat.completion.chunk" : "text_completion");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", index);
        if (chat) {
            ObjectNode delta = choice.putObject("delta");
            if (first) {
                delta.put("role", "assistant");
            }
            if (!text.isEmpty() || (finish == null && calls.isEmpty())) {
                delta.put("content", text);
            }
            if (!calls.isEmpty()) {
                ArrayNode out = delta.putArray("tool_calls");
                for (int k = 0; k < calls.size(); k++) {
                    toolCall(out.addObject().put("index", firstCallIndex + k), calls.get(k));
                }
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
            choice.put("finish_reason", finish);
        }
        if (withUsageField) {
            root.putNull("usage");
        }
        return bytes(root);
    }

    /** The prompt tokens of choices that come {@code perPrompt} to a prompt: each prompt counted once. */
    static int promptTokens(List<Completion> cs, int perPrompt) {
        int sum = 0;
        for (int k = 0; k < cs.size(); k += perPrompt) {
            sum += cs.get(k).promptTokenIds().length;
        }
        return sum;
    }

    private static void toolCall(ObjectNode out, ToolCall t) {
        out.put("id", t.id());
        out.put("type", "function");
        out.putObject("function").put("name", t.name()).put("arguments", t.arguments());
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

    /**
     * OpenAI's names; an aborted request (deadline, shutdown) reports {@code abort}, as vLLM does, and an answer that
     * ended by itself after calling tools reports {@code tool_calls}.
     */
    static String finishReason(FinishReason r, boolean calledTools) {
        if (calledTools && r == FinishReason.STOP) {
            return "tool_calls";
        }
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
