package dev.bulkhead.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.engine.api.GenerateRequest;
import dev.bulkhead.engine.api.SamplingParams;
import dev.bulkhead.engine.chat.ChatPrompts;
import dev.bulkhead.engine.chat.ChatTemplateSource;
import dev.bulkhead.engine.chat.ToolCalls;
import dev.bulkhead.model.tokenizer.Tokenizer;
import io.helidon.webserver.http.ServerRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Turns a completion request's body into engine requests: parse and validate, check the key's model access, refuse a
 * prompt too long in characters, render chat messages, compile any decoding constraint. All of it is CPU work (the
 * tokenizer's too, for {@code logprobs}), so {@link CompletionHandler} runs it on the {@link RequestCpuPool}.
 */
final class RequestPreparer {

    /**
     * A request ready for the engine.
     *
     * @param id       the answer's id ({@code cmpl-...} or {@code chatcmpl-...})
     * @param request  the validated request, constrained for a forced tool call
     * @param generate one engine request per choice, prompt-major: choice {@code p * n + i} is prompt p's i-th
     * @param tools    how the answer is read for tool calls
     * @param logprobs how log-probabilities are written, or null when none were asked
     */
    record Prepared(String id, OpenAiRequest request, List<GenerateRequest> generate, ToolCalls tools,
                    LogprobsBodies logprobs) {

        /**
         * {@code e}, raised by choice {@code choice}'s engine request, naming that choice's prompt when the request
         * has several (the engine only knows its own {@code prompt}).
         */
        Throwable locate(Throwable e, int choice) {
            return request.prompts().size() < 2 ? e
                    : CompletionPrompts.locate(e, request.prompts().get(choice / request.n()));
        }

        /** As {@link #locate(Throwable, int)}, for a failure thrown at once. */
        RuntimeException locate(RuntimeException e, int choice) {
            return (RuntimeException) locate((Throwable) e, choice);
        }
    }

    private final boolean chat;
    private final ModelBackend backend;
    private final ObjectMapper json;
    private final JsonBodies bodies;
    private final ChatPrompts prompts;
    private final PromptLimits limits;

    RequestPreparer(boolean chat, ModelBackend backend, ObjectMapper json, JsonBodies bodies, ChatPrompts prompts,
                    PromptLimits limits) {
        this.chat = chat;
        this.backend = backend;
        this.json = json;
        this.bodies = bodies;
        this.prompts = prompts;
        this.limits = limits;
    }

    /** Prepares {@code body}, read from {@code req}; throws {@link ApiException} (or the engine's) when it is bad. */
    Prepared prepare(ServerRequest req, byte[] body) {
        OpenAiRequest parsed = RequestParser.parse(bodies.parse(body), chat);
        AuthFilter.checkModelAccess(req, parsed.model());
        if (!backend.serves(parsed.model())) {
            throw ApiException.unknownModel(parsed.model());
        }
        if (chat) {
            limits.check(parsed.model(), "messages", "the messages' text", PromptLimits.chars(parsed.messages()));
        } else {
            for (CompletionPrompt p : parsed.prompts()) {
                if (p.text() != null) {
                    limits.check(parsed.model(), p.field(), "'" + p.field() + "'", p.text().length());
                }
            }
        }
        String id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
        Optional<ChatTemplateSource> template = chat ? backend.chatTemplate(parsed.model())
                : Optional.empty();
        ToolCalls tools = ToolCalls.of(parsed.tools(), template, parsed.sampling().guidedDecoding() != null, json);
        OpenAiRequest r = parsed.withSampling(tools.constrain(parsed.sampling()));
        List<GenerateRequest> gs = toGenerate(id, r, template);
        LogprobsBodies logprobs = null;
        if (r.sampling().logprobs() >= 0) {
            logprobs = backend.tokenizer(r.model()).map(LogprobsBodies::new).orElseThrow(() ->
                    ApiException.badRequest("logprobs", "logprobs are not available for model '" + r.model()
                            + "'"));
        }
        return new Prepared(id, r, gs, tools, logprobs);
    }

    /** The chat rendered with the model's template, as token ids when the template wrote the special tokens. */
    private CompletionPrompt chatPrompt(OpenAiRequest r, Optional<ChatTemplateSource> template) {
        String text = prompts.render(template, r.messages(), r.tools());
        // NOTE: the template adds its own text around the messages, so the rendered prompt is checked again.
        limits.check(r.model(), "messages", "the rendered chat prompt", text.length());
        if (ChatPrompts.addsSpecialTokens(template)) {
            return CompletionPrompt.text("messages", text);
        }
        Optional<Tokenizer> tokenizer = backend.tokenizer(r.model());
        return tokenizer.isPresent() ? CompletionPrompt.tokens("messages", tokenizer.get().encode(text, false))
                : CompletionPrompt.text("messages", text);
    }

    /**
     * One engine request per choice, prompt-major (OpenAI's order of {@code index}). Choice i of a prompt in a seeded
     * request uses seed + i, so choices differ yet repeat, and each prompt's choices are those it gets alone.
     */
    private List<GenerateRequest> toGenerate(String id, OpenAiRequest r,
                                             Optional<ChatTemplateSource> template) {
        List<CompletionPrompt> ps = r.chat() ? List.of(chatPrompt(r, template)) : r.prompts();
        int choices = ps.size() * r.n();
        List<GenerateRequest> out = new ArrayList<>(choices);
        Long seed = r.sampling().seed();
        for (CompletionPrompt p : ps) {
            for (int i = 0; i < r.n(); i++) {
                SamplingParams s = seed == null || i == 0 ? r.sampling() : r.sampling().toBuilder().seed(seed + i)
                        .build();
                String rid = choices == 1 ? id : id + "-" + out.size();
                out.add(new GenerateRequest(rid, p.text(), p.tokenIds(), s, 0, null));
            }
        }
        return out;
    }
}
