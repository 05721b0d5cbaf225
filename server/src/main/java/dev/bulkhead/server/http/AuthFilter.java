package dev.bulkhead.server.http;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.helidon.webserver.http.ServerRequest;
import java.util.Locale;
import java.util.Optional;

/**
 * Requires {@code Authorization: Bearer <key>} on every {@code /v1/}, {@code /tokenize} and {@code /detokenize}
 * request when keys are configured (the last two are vLLM's paths, outside {@code /v1/}), answering
 * 401 {@code invalid_api_key} in OpenAI's shape otherwise. The accepted {@link ApiKeys.Key} is registered in the
 * request context, where {@link CompletionHandler} and {@code /v1/models} check its model allow list.
 *
 * <p>{@code /health}, {@code /ready} and {@code /metrics} stay open: load balancers and Prometheus probe them
 * without credentials, and they carry no user data (model names and counters only). Bind the server to a private
 * interface, or put a proxy in front, where even that must not be seen.
 */
final class AuthFilter implements Filter {

    // NOTE: /tokenize and /detokenize are vLLM's paths, outside /v1/; they run the tokenizer and chat template.
    private static final String[] GUARDED = {"/v1", "/tokenize", "/detokenize"};

    private final ApiKeys keys;
    private final ErrorResponses errors;

    AuthFilter(ApiKeys keys, ErrorResponses errors) {
        this.keys = keys;
        this.errors = errors;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        String path = req.path().path();
        if (!keys.enabled() || !guarded(path)) {
            chain.proceed();
            return;
        }
        Optional<String> token = bearer(req.headers().first(HeaderNames.AUTHORIZATION).orElse(null));
        if (token.isEmpty()) {
            reject(req, res, "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'.");
            return;
        }
        Optional<ApiKeys.Key> key = keys.authenticate(token.get());
        if (key.isEmpty()) {
            // NOTE: the message never echoes the token, unlike OpenAI's, so a key pasted by mistake stays out of logs.
            reject(req, res, "Incorrect API key provided.");
            return;
        }
        req.context().register(key.get());
        chain.proceed();
    }

    /** Whether {@code path} is one of the API's (every key-guarded path, with or without anything under it). */
    static boolean guarded(String path) {
        for (String root : GUARDED) {
            if (path.equals(root) || path.startsWith(root + "/")) {
                return true;
            }
        }
        return false;
    }

    private void reject(RoutingRequest req, RoutingResponse res, String message) {
        res.header("WWW-Authenticate", "Bearer");
        if (req.content().hasEntity()) {
            // NOTE: the body stays unread, so the connection ends after this answer (RequestEndFilter); saying so
            // keeps a client from sending its next request on it and getting a reset instead of an answer.
            res.header(HeaderNames.CONNECTION, "close");
        }
        errors.send(res, new ApiException(401, "invalid_request_error", null, "invalid_api_key", message, -1));
    }

    /**
     * Throws OpenAI's 404 for a model the request's key may not use. NOTE: 404 rather than 403, as OpenAI answers,
     * so a key cannot learn which models exist beyond its own; the message says access may be the reason.
     */
    static void checkModelAccess(ServerRequest req, String model) {
        Optional<ApiKeys.Key> key = req.context().get(ApiKeys.Key.class);
        if (key.isPresent() && !key.get().allows(model)) {
            throw new ApiException(404, "invalid_request_error", "model", "model_not_found",
                    "The model '" + model + "' does not exist or you do not have access to it.", -1);
        }
    }

    /** Whether the request's key (if any) may use {@code model}. */
    static boolean mayUse(ServerRequest req, String model) {
        return req.context().get(ApiKeys.Key.class).map(k -> k.allows(model)).orElse(true);
    }

    /** The token of a {@code Bearer} credential (scheme case-insensitive), if that is what the header holds. */
    static Optional<String> bearer(String header) {
        if (header == null) {
            return Optional.empty();
        }
        String h = header.strip();
        int space = h.indexOf(' ');
        if (space < 0 || !h.substring(0, space).toLowerCase(Locale.ROOT).equals("bearer")) {
            return Optional.empty();
        }
        String token = h.substring(space + 1).strip();
        return token.isEmpty() ? Optional.empty() : Optional.of(token);
    }
}
