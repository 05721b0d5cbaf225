package dev.bulkhead.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bulkhead.engine.InvalidRequestException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Reads the {@code prompt} of a completions request in every form the OpenAI API and vLLM take: a string, a list of
 * strings, a list of token ids, or a list of token-id lists. Each entry of a list becomes one prompt, named
 * {@code prompt[i]} in errors; a lone string or token list is named {@code prompt}.
 */
final class CompletionPrompts {

    /**
     * Most choices (prompts × {@code n}) one request may make. NOTE: each choice is admitted as a request of its own,
     * so this stays at half the router's default admission bound for interactive requests (64): one HTTP request
     * can neither fill a model's queue alone nor be refused whole on an idle server.
     */
    static final int MAX_CHOICES = 32;

    private static final String SHAPES = "a string, a list of strings, a list of token ids or a list of token-id lists";

    private CompletionPrompts() {
    }

    /** The prompts of {@code prompt} (present and not null), in order. */
    static List<CompletionPrompt> parse(JsonNode prompt) {
        if (prompt.isTextual()) {
            return List.of(CompletionPrompt.text("prompt", prompt.asText()));
        }
        if (!prompt.isArray()) {
            throw ApiException.badRequest("prompt", "'prompt' must be " + SHAPES);
        }
        if (prompt.isEmpty()) {
            throw ApiException.badRequest("prompt", "'prompt' must not be an empty list");
        }
        JsonNode first = prompt.get(0);
        if (first.isNumber()) {
            return List.of(CompletionPrompt.tokens("prompt", ids(prompt, "prompt")));
        }
        if (prompt.size() > MAX_CHOICES) {
            throw ApiException.badRequest("prompt", "'prompt' holds " + prompt.size() + " prompts; a request may "
                    + "hold at most " + MAX_CHOICES);
        }
        if (!first.isTextual() && !first.isArray()) {
            throw ApiException.badRequest("prompt[0]", "prompt[0] must be a string, a token id or a list of token "
                    + "ids, got " + RequestParser.kind(first));
        }
        List<CompletionPrompt> out = new ArrayList<>(prompt.size());
        for (int i = 0; i < prompt.size(); i++) {
            JsonNode p = prompt.get(i);
            String field = "prompt[" + i + "]";
            if (first.isTextual() && p.isTextual()) {
                out.add(CompletionPrompt.text(field, p.asText()));
            } else if (first.isArray() && p.isArray()) {
                if (p.isEmpty()) {
                    throw ApiException.badRequest(field, field + " must hold at least one token id");
                }
                out.add(CompletionPrompt.tokens(field, ids(p, field)));
            } else {
                // NOTE: the kind is decided by the first entry, as vLLM does; mixed lists have no meaning.
                throw ApiException.badRequest(field, field + " is " + RequestParser.kind(p) + " but prompt[0] is "
                        + RequestParser.kind(first) + ": a list holds only strings or only token-id lists");
            }
        }
        return List.copyOf(out);
    }

    /**
     * Throws a 400 when {@code prompts} × {@code n} is more choices than {@link #MAX_CHOICES}: naming {@code n} when
     * it is what multiplies the count past the limit.
     */
    static void checkChoices(List<CompletionPrompt> prompts, int n) {
        long choices = (long) prompts.size() * n;
        if (choices > MAX_CHOICES) {
            throw ApiException.badRequest("n", prompts.size() + " prompts x n=" + n + " make " + choices
                    + " choices; a request may make at most " + MAX_CHOICES + " (lower n or send fewer prompts)");
        }
    }

    /**
     * {@code e} (or the future's failure it wraps) as a 400 that says which prompt of several it is about when the
     * engine refused the request: the engine's own field ({@code prompt}, {@code prompt_token_ids}) becomes
     * {@code p}'s ({@code prompt[2]}), and the message starts with it. Other failures come back as they are.
     */
    static Throwable locate(Throwable e, CompletionPrompt p) {
        Throwable c = e;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        if (!(c instanceof InvalidRequestException ie)) {
            return e;
        }
        String field = ie.field() != null && ie.field().startsWith("prompt") ? p.field() : ie.field();
        return ApiException.badRequest(field, p.field() + ": " + ie.getMessage());
    }

    /** The token ids of the list {@code arr}; a 400 names the first entry that is not one ({@code field[i]}). */
    static int[] ids(JsonNode arr, String field) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode x = arr.get(i);
            if (!x.isIntegralNumber() || !x.canConvertToInt()) {
                String at = field + "[" + i + "]";
                throw ApiException.badRequest(at, at + " must be a token id (a 32-bit integer), got "
                        + RequestParser.kind(x));
            }
            out[i] = x.asInt();
        }
        return out;
    }
}
