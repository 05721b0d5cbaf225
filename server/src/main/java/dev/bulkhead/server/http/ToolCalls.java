package dev.bulkhead.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.engine.sampling.GuidedDecoding;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How one chat request's answer is read for tool calls, decided from its {@code tool_choice} and the model's
 * template:
 * <ul>
 *   <li>no tools, or {@code none}: the answer is text;</li>
 *   <li>{@code auto}: calls are parsed out of the answer in the format the template asks for;</li>
 *   <li>a named function (or {@code required} with one tool): decoding is constrained to that function's parameters
 *       schema and the whole answer is the call's arguments, as vLLM does it. {@code required} over several tools
 *       would need a choice between objects that the JSON constraint cannot express yet, so it is a 400.</li>
 * </ul>
 */
final class ToolCalls {

    private final ToolCallFormat format;
    private final String forced;
    private final GuidedDecoding constraint;
    private final ObjectMapper json;

    private ToolCalls(ToolCallFormat format, String forced, GuidedDecoding constraint, ObjectMapper json) {
        this.format = format;
        this.forced = forced;
        this.constraint = constraint;
        this.json = json;
    }

    static ToolCalls of(OpenAiRequest r, Optional<ModelBackend.ChatTemplateSource> template, ObjectMapper json) {
        ChatTools t = r.tools();
        if (t.choice() == ChatTools.Choice.REQUIRED && t.names().size() == 1) {
            t = new ChatTools(t.definitions(), t.names(), ChatTools.Choice.NAMED, t.names().iterator().next(),
                    t.parallel());
        }
        switch (t.choice()) {
            case NONE -> {
                return new ToolCalls(null, null, null, json);
            }
            case AUTO -> {
                return new ToolCalls(ChatPrompts.toolCallFormat(template, t).orElseThrow(), null, null, json);
            }
            case REQUIRED -> throw ApiException.badRequest("tool_choice", "tool_choice 'required' with several tools "
                    + "is not supported yet; name the function ({\"type\": \"function\", \"function\": {\"name\": "
                    + "...}}) or use 'auto'");
            default -> {
                if (r.sampling().guidedDecoding() != null) {
                    throw ApiException.badRequest("response_format", "response_format cannot be combined with a "
                            + "tool_choice that forces a function");
                }
                return new ToolCalls(null, t.named(), parameters(t), json);
            }
        }
    }

    /** The named function's parameters as a constraint: any object when it declares none. */
    @SuppressWarnings("unchecked")
    private static GuidedDecoding parameters(ChatTools t) {
        List<Map<String, Object>> defs = t.definitions();
        for (int i = 0; i < defs.size(); i++) {
            Map<String, Object> f = (Map<String, Object>) defs.get(i).get("function");
            if (t.named().equals(f.get("name"))) {
                Object params = f.get("parameters");
                if (params == null) {
                    return new GuidedDecoding.JsonObject();
                }
                JsonNode schema = new ObjectMapper().valueToTree(params);
                return ResponseFormats.schema(schema, "tools[" + i + "].function.parameters");
            }
        }
        throw new IllegalStateException("tool_choice names a function ChatTools did not check: " + t.named());
    }

    /** {@code r} with the decoding constraint a forced call needs, or {@code r} itself. */
    OpenAiRequest constrain(OpenAiRequest r) {
        return constraint == null ? r : r.withSampling(r.sampling().toBuilder().guidedDecoding(constraint).build());
    }

    /** Whether the answer is plain text. */
    boolean none() {
        return format == null && forced == null;
    }

    /** A fresh extractor for one choice. */
    ToolCallExtractor extractor() {
        return forced != null ? ToolCallExtractor.forced(forced, json) : new ToolCallExtractor(format, json);
    }

    /**
     * Whether an answer with calls ends in {@code finish_reason: "tool_calls"}: OpenAI says {@code stop} when the
     * request forced the call, and {@code tool_calls} when the model chose to make it.
     */
    boolean finishAsToolCalls() {
        return forced == null;
    }
}
