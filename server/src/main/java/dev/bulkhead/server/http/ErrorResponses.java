package dev.bulkhead.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulkhead.engine.InvalidRequestException;
import dev.bulkhead.router.RouterRejectedException;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Maps engine, router and API failures to HTTP statuses and writes them in OpenAI's error shape. */
final class ErrorResponses {

    private static final Logger LOG = LoggerFactory.getLogger(ErrorResponses.class);

    private final ObjectMapper json;

    ErrorResponses(ObjectMapper json) {
        this.json = json;
    }

    /** The API error for {@code t} (unwrapping futures' wrappers); unknown failures become a 500. */
    static ApiException toApi(Throwable t, String requestId) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return switch (c) {
            case ApiException a -> a;
            case InvalidRequestException e -> ApiException.badRequest(e.field(), e.getMessage());
            case RouterRejectedException r -> rejected(r);
            case IllegalStateException e -> new ApiException(503, "service_unavailable", null, "unavailable",
                    e.getMessage(), 1);
            default -> {
                LOG.error("request {} failed", requestId, c);
                yield new ApiException(500, "server_error", null, "internal_error",
                        "internal error (request id " + requestId + ")", -1);
            }
        };
    }

    private static ApiException rejected(RouterRejectedException r) {
        long retry = Math.max(1, (r.retryAfter().toMillis() + 999) / 1000);
        return switch (r.reason()) {
            case OVERLOADED -> new ApiException(429, "rate_limit_error", null, "overloaded", r.getMessage(), retry);
            case NO_ROUTE -> new ApiException(404, "invalid_request_error", "model", "model_not_found",
                    r.getMessage(), -1);
            case MODEL_UNAVAILABLE, DEADLINE_UNMEETABLE -> new ApiException(503, "service_unavailable", null,
                    r.reason().name().toLowerCase(java.util.Locale.ROOT),
                    r.getMessage(), r.retryAfter().isZero() ? -1 : retry);
        };
    }

    /** The JSON body of an error. */
    byte[] body(ApiException e) {
        ObjectNode root = json.createObjectNode();
        ObjectNode err = root.putObject("error");
        err.put("message", e.getMessage());
        err.put("type", e.type());
        err.put("param", e.param());
        err.put("code", e.code());
        try {
            return json.writeValueAsBytes(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException x) {
            return ("{\"error\":{\"message\":\"internal error\"}}").getBytes(StandardCharsets.UTF_8);
        }
    }

    /** Sends {@code e} as the whole response. */
    void send(ServerResponse res, ApiException e) {
        res.status(Status.create(e.status()));
        res.header("Content-Type", "application/json");
        if (e.retryAfterSeconds() >= 0) {
            res.header("Retry-After", Long.toString(e.retryAfterSeconds()));
        }
        res.send(body(e));
    }
}
