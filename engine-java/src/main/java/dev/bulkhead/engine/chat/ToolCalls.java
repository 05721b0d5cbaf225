package dev.bulkhead.engine.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulkhead.engine.InvalidRequestException;
import dev.bulkhead.engine.api.GuidedDecoding;
import dev.bulkhead.engine.api.SamplingParams;
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
 *       schema and the whole answer is the call's arguments, as vLLM does it;</li>
 *   <li>{@code required} over several tools: decoding is constrained to {@code {"name": ..., "arguments": ...}}
 *       with the arguments of the function named, and the answer is that one call.</li>
 * </ul>
 * Shared by the server's chat endpoint and in-process chat models, so both read a model's answers the same way.
 */
public final class ToolCalls {

    private final ToolCallFormat format;
    private final String forced;
    private final boolean chosen;
    private final GuidedDecoding constraint;
    private final ObjectMapper json;

    private ToolCalls(ToolCallFormat format, String forced, boolean chosen, GuidedDecoding constraint,
                      ObjectMapper json) {
        this.format = format;
        this.forced = forced;
        this.chosen = chosen;
        this.constraint = constraint;
        this.json = json;
    }

    /**
     * How answers to a chat offered {@code tools} are read.
     *
     * @param tools          the tools and tool choice ({@link ChatTools#NONE} for none)
     * @param template       the model's chat template, which decides the format of calls under {@code auto}
     * @param responseFormat whether the request also constrains its output ({@code response_format}), which a
     *                       forced call cannot be combined with
     * @param json           builds the constraints and parses the calls
     * @return how to constrain the request and read its answers
     * @throws InvalidRequestException (field {@code tools} or {@code response_format}) when the model cannot be
     *                                 given these tools
     */
    public static ToolCalls of(ChatTools tools, Optional<ChatTemplateSource> template, boolean responseFormat,
                               ObjectMapper json) {
        ChatTools t = tools;
        if (t.choice() == ChatTools.Choice.REQUIRED && t.names().size() == 1) {
            t = new ChatTools(t.definitions(), t.names(), ChatTools.Choice.NAMED, t.names().iterator().next(),
                    t.parallel());
        }
        switch (t.choice()) {
            case NONE -> {
                return new ToolCalls(null, null, false, null, json);
            }
            case AUTO -> {
                return new ToolCalls(format(template), null, false, null, json);
            }
            case REQUIRED -> {
                noResponseFormat(responseFormat);
                return new ToolCalls(null, null, true, anyCall(t, json), json);
            }
            default -> {
                noResponseFormat(responseFormat);
                return new ToolCalls(null, t.named(), false, parameters(t, json), json);
            }
        }
    }

    /** The format the model's template asks tool calls in; refused when it shows none this class parses. */
    private static ToolCallFormat format(Optional<ChatTemplateSource> template) {
        return template.flatMap(t -> ToolCallFormat.of(t.source())).orElseThrow(() ->
                new InvalidRequestException("tools", "this model's chat template asks for tool calls in a format this "
                        + "server does not parse (it parses Hermes-style <tool_call> tags and Llama 3 JSON calls)"));
    }

    private static void noResponseFormat(boolean responseFormat) {
        if (responseFormat) {
            throw new InvalidRequestException("response_format", "response_format cannot be combined with a "
                    + "tool_choice that forces a call");
        }
    }

    /**
     * One call to any offered function: {@code {"name": <one of them>, "arguments": <its parameters>}}, a union the
     * name's value decides (vLLM constrains {@code required} the same way, over a list of such calls).
     */
    @SuppressWarnings("unchecked")
    private static GuidedDecoding anyCall(ChatTools t, ObjectMapper json) {
        ObjectNode schema = json.createObjectNode();
        ArrayNode anyOf = schema.putArray("anyOf");
        for (Map<String, Object> def : t.definitions()) {
            Map<String, Object> f = (Map<String, Object>) def.get("function");
            ObjectNode alt = anyOf.addObject();
            alt.put("type", "object");
            ObjectNode props = alt.putObject("properties");
            props.putObject("name").put("const", (String) f.get("name"));
            Object params = f.get("parameters");
            props.set("arguments", params == null ? json.createObjectNode().put("type", "object")
                    : json.valueToTree(params));
            alt.putArray("required").add("name").add("arguments");
            alt.put("additionalProperties", false);
        }
        return JsonSchemas.constraint(schema, "tool_choice");
    }

    /** The named function's parameters as a constraint: any object when it declares none. */
    @SuppressWarnings("unchecked")
    private static GuidedDecoding parameters(ChatTools t, ObjectMapper json) {
        List<Map<String, Object>> defs = t.definitions();
        for (int i = 0; i < defs.size(); i++) {
            Map<String, Object> f = (Map<String, Object>) defs.get(i).get("function");
            if (t.named().equals(f.get("name"))) {
                Object params = f.get("parameters");
                if (params == null) {
                    return new GuidedDecoding.JsonObject();
                }
                JsonNode schema = json.valueToTree(params);
                return JsonSchemas.constraint(schema, "tools[" + i + "].function.parameters");
            }
        }
        throw new IllegalStateException("tool_choice names a function ChatTools did not check: " + t.named());
    }

    /**
     * {@code sampling} with the decoding constraint a forced call needs, or {@code sampling} itself.
     *
     * @param sampling the request's sampling settings
     * @return the settings to generate with
     */
    public SamplingParams constrain(SamplingParams sampling) {
        return constraint == null ? sampling : sampling.toBuilder().guidedDecoding(constraint).build();
    }

    /**
     * Whether the answer is plain text.
     *
     * @return true when no tool call can come back
     */
    public boolean none() {
        return format == null && forced == null && !chosen;
    }

    /**
     * A fresh extractor for one answer.
     *
     * @return an extractor, fed that answer's text in order
     */
    public ToolCallExtractor extractor() {
        if (chosen) {
            return ToolCallExtractor.required(json);
        }
        return forced != null ? ToolCallExtractor.forced(forced, json) : new ToolCallExtractor(format, json);
    }

    /**
     * Whether an answer with calls ends in {@code finish_reason: "tool_calls"}: OpenAI says {@code stop} when the
     * request named the function, and {@code tool_calls} when the model chose the call (or which one to make).
     *
     * @return true when calls end the answer with {@code tool_calls}
     */
    public boolean finishAsToolCalls() {
        return forced == null;
    }
}
