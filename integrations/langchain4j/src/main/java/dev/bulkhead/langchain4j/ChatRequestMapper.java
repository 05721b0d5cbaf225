package dev.bulkhead.langchain4j;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.GuidedDecoding;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.chat.ChatPrompts;
import dev.bulkhead.engine.chat.ChatTemplateSource;
import dev.bulkhead.engine.chat.ChatTools;
import dev.bulkhead.engine.chat.JsonSchemas;
import dev.bulkhead.engine.chat.ToolCalls;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.internal.JsonSchemaElementUtils;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.request.json.JsonSchema;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns a LangChain4j {@link ChatRequest} into an engine request: the messages rendered with the model's chat
 * template, tools offered to the template and read back by the engine's {@link ToolCalls}, a JSON schema response
 * format compiled to guided decoding, and the sampling parameters. Thread safe.
 */
final class ChatRequestMapper {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ChatBackend backend;
    private final Long seed;
    private final Duration timeout;
    private final ChatPrompts prompts = new ChatPrompts();

    ChatRequestMapper(ChatBackend backend, Long seed, Duration timeout) {
        this.backend = backend;
        this.seed = seed;
        this.timeout = timeout;
    }

    ChatBackend backend() {
        return backend;
    }

    PreparedChat prepare(ChatRequest chat) {
        ChatRequestParameters p = chat.parameters();
        String model = p.modelName() == null ? backend.defaultModel() : p.modelName();
        Optional<ChatTemplateSource> template = backend.template(model);
        ChatTools tools = tools(p.toolSpecifications(), p.toolChoice());
        GuidedDecoding format = responseFormat(p.responseFormat());
        ToolCalls calls = ToolCalls.of(tools, template, format != null, JSON);
        String text = prompts.render(template, ChatMessageMapper.toTemplate(chat.messages()), tools);
        // NOTE: a template writes its own BOS; only the plain transcript of a template-less model gets one here.
        int[] ids = backend.tokenizer(model).encode(text, ChatPrompts.addsSpecialTokens(template));
        SamplingParams sampling = calls.constrain(sampling(p, format, backend.contextTokens(model) - ids.length));
        GenerateRequest request = GenerateRequest.ofTokens(ids, sampling);
        if (timeout != null) {
            request = request.withDeadline(Instant.now().plus(timeout));
        }
        return new PreparedChat(model, request, calls);
    }

    private SamplingParams sampling(ChatRequestParameters p, GuidedDecoding format, int roomLeft) {
        SamplingParams.Builder b = SamplingParams.builder();
        if (p.temperature() != null) {
            b.temperature(p.temperature().floatValue());
        }
        if (p.topP() != null) {
            b.topP(p.topP().floatValue());
        }
        if (p.topK() != null) {
            b.topK(p.topK());
        }
        if (p.frequencyPenalty() != null) {
            b.frequencyPenalty(p.frequencyPenalty().floatValue());
        }
        if (p.presencePenalty() != null) {
            b.presencePenalty(p.presencePenalty().floatValue());
        }
        // NOTE: a chat answers until it is done, as OpenAI's chat does, not vLLM's 16 tokens of a bare completion.
        b.maxTokens(p.maxOutputTokens() != null ? p.maxOutputTokens() : Math.max(1, roomLeft));
        if (p.stopSequences() != null && !p.stopSequences().isEmpty()) {
            b.stop(p.stopSequences());
        }
        if (seed != null) {
            b.seed(seed);
        }
        if (format != null) {
            b.guidedDecoding(format);
        }
        return b.build();
    }

    /** The tools as the chat template receives them: {@code {"type": "function", "function": {...}}}. */
    static ChatTools tools(List<ToolSpecification> specs, ToolChoice choice) {
        if (specs == null || specs.isEmpty()) {
            return ChatTools.NONE;
        }
        List<Map<String, Object>> definitions = new ArrayList<>(specs.size());
        for (ToolSpecification s : specs) {
            Map<String, Object> function = new LinkedHashMap<>();
            function.put("name", s.name());
            if (s.description() != null) {
                function.put("description", s.description());
            }
            if (s.parameters() != null) {
                function.put("parameters", JsonSchemaElementUtils.toMap(s.parameters()));
            }
            Map<String, Object> tool = new LinkedHashMap<>();
            tool.put("type", "function");
            tool.put("function", function);
            definitions.add(tool);
        }
        ChatTools.Choice c = switch (choice == null ? ToolChoice.AUTO : choice) {
            case AUTO -> ChatTools.Choice.AUTO;
            case REQUIRED -> ChatTools.Choice.REQUIRED;
            case NONE -> ChatTools.Choice.NONE;
        };
        return ChatTools.of(definitions, c, null, true);
    }

    /** {@code JSON} with a schema as the schema's guided decoding, {@code JSON} alone as any object; text as none. */
    static GuidedDecoding responseFormat(ResponseFormat format) {
        if (format == null || format.type() != ResponseFormatType.JSON) {
            return null;
        }
        JsonSchema schema = format.jsonSchema();
        if (schema == null || schema.rootElement() == null) {
            return new GuidedDecoding.JsonObject();
        }
        return JsonSchemas.constraint(JSON.valueToTree(JsonSchemaElementUtils.toMap(schema.rootElement())),
                "response_format");
    }
}
