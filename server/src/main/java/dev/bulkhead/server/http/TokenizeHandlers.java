package dev.bulkhead.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulkhead.engine.chat.ChatPrompts;
import dev.bulkhead.engine.chat.ChatTemplateSource;
import dev.bulkhead.model.tokenizer.Tokenizer;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.BiFunction;

/**
 * vLLM's {@code POST /tokenize} and {@code POST /detokenize}, so a client can count a prompt's tokens before it sends
 * it: chat messages are rendered exactly as {@code /v1/chat/completions} renders them ({@link ChatPrompts}) and
 * encoded as the engine encodes that text, so {@code count} is the chat's {@code usage.prompt_tokens}.
 *
 * <p>Both take the paths of the completion endpoints: the body limit, the key's model access ({@link AuthFilter}
 * covers these paths too), the prompt length check ({@link PromptLimits}), and the {@link RequestCpuPool} for the
 * parsing, rendering and (native) tokenizer calls.
 */
final class TokenizeHandlers {

    private final ModelBackend backend;
    private final ObjectMapper json;
    private final JsonBodies bodies;
    private final ErrorResponses errors;
    private final ChatPrompts prompts;
    private final PromptLimits limits;
    private final RequestCpuPool cpu;

    TokenizeHandlers(ModelBackend backend, ObjectMapper json, JsonBodies bodies, ErrorResponses errors,
                     ChatPrompts prompts, PromptLimits limits, RequestCpuPool cpu) {
        this.backend = backend;
        this.json = json;
        this.bodies = bodies;
        this.errors = errors;
        this.prompts = prompts;
        this.limits = limits;
        this.cpu = cpu;
    }

    /** {@code {"count", "max_model_len", "tokens"}}, plus {@code token_strs} when asked. */
    void tokenize(ServerRequest req, ServerResponse res) {
        answer(req, res, (request, body) -> {
            TokenizeRequest t = TokenizeRequest.parse(body);
            Tokenizer tokenizer = tokenizer(request, t.model());
            String text;
            boolean special;
            if (t.chat()) {
                limits.check(t.model(), "messages", "the messages' text", PromptLimits.chars(t.messages()));
                Optional<ChatTemplateSource> template = backend.chatTemplate(t.model());
                text = prompts.render(template, t.messages(), t.tools(), t.addGenerationPrompt());
                limits.check(t.model(), "messages", "the rendered chat prompt", text.length());
                special = t.addSpecialTokens() == null ? ChatPrompts.addsSpecialTokens(template) : t.addSpecialTokens();
            } else {
                limits.check(t.model(), "prompt", "'prompt'", t.prompt().length());
                text = t.prompt();
                special = t.addSpecialTokens();
            }
            int[] ids = tokenizer.encode(text, special);
            ObjectNode root = json.createObjectNode();
            root.put("count", ids.length);
            OptionalInt context = backend.contextTokens(t.model());
            if (context.isPresent()) {
                root.put("max_model_len", context.getAsInt());
            } else {
                root.putNull("max_model_len");
            }
            ArrayNode tokens = root.putArray("tokens");
            for (int id : ids) {
                tokens.add(id);
            }
            if (t.returnTokenStrs()) {
                ArrayNode strs = root.putArray("token_strs");
                for (int id : ids) {
                    strs.add(tokenizer.tokenText(id));
                }
            }
            return root;
        });
    }

    /** {@code {"prompt"}}: the ids' text, special tokens kept (as vLLM decodes them). */
    void detokenize(ServerRequest req, ServerResponse res) {
        answer(req, res, (request, body) -> {
            DetokenizeRequest d = DetokenizeRequest.parse(body);
            Tokenizer tokenizer = tokenizer(request, d.model());
            d.checkRange(tokenizer.vocabSize());
            return json.createObjectNode().put("prompt", tokenizer.decode(d.tokens(), false));
        });
    }

    /** Reads the body here (I/O), does {@code work} on the CPU pool, and sends its JSON or the error. */
    private void answer(ServerRequest req, ServerResponse res, BiFunction<ServerRequest, JsonNode, ObjectNode> work) {
        String requestId = req.context().get(RequestId.class).map(RequestId::value).orElse("-");
        try {
            byte[] body = bodies.read(req.content().inputStream(), req.headers().contentLength().orElse(-1));
            byte[] out = cpu.call(() -> bytes(work.apply(req, bodies.parse(body))));
            res.header("Content-Type", "application/json");
            res.send(out);
        } catch (RuntimeException e) {
            errors.send(res, ErrorResponses.toApi(e, requestId));
        }
    }

    /**
     * The tokenizer of {@code model} (or of the first target of the alias, in router mode), once the key may use it:
     * 404 for a name the server does not serve, 503 for a model it serves that is not loaded now.
     */
    private Tokenizer tokenizer(ServerRequest req, String model) {
        AuthFilter.checkModelAccess(req, model);
        if (!backend.serves(model)) {
            throw ApiException.unknownModel(model);
        }
        return backend.tokenizer(model).orElseThrow(() -> backend.models().contains(model)
                ? new ApiException(503, "service_unavailable", "model", "model_unavailable", "model '" + model
                        + "' is not loaded right now, so its tokenizer is not available; retry shortly", 1)
                : ApiException.unknownModel(model));
    }

    private byte[] bytes(ObjectNode root) {
        try {
            return json.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
