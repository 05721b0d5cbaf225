package dev.bulkhead.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulkhead.engine.InvalidRequestException;
import dev.bulkhead.router.RouterRejectedException;
import io.helidon.http.HeaderValues;
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

    /** nginx's status for "the client closed the connection before the answer": logged and counted, never seen. */
    static final int CLIENT_CLOSED = 499;

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
                if (ClientDisconnects.isClientGone(c)) {
                    LOG.debug("request {}: client went away ({})", requestId, ClientDisconnects.describe(c));
                    yield new ApiException(CLIENT_CLOSED, "invalid_request_error", null, "client_closed",
                            "the client closed the connection", -1);
                }
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
            case MODEL_UNAVAILABLE, DEADLINE_UNMEETABLE, DRAINING -> new ApiException(503, "service_unavailable", null,
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

    /**
     * Sends {@code e} as the whole response. A 499 (the client is gone) and any error after the response was sent
     * only set what the request log and metrics read: writing to a closed connection fails.
     */
    void send(ServerResponse res, ApiException e) {
        if (e.status() == CLIENT_CLOSED) {
            try {
                if (!res.isSent()) {
                    res.status(Status.create(CLIENT_CLOSED, "Client Closed Request")).send();
                }
            } catch (RuntimeException expected) {
                // the peer is gone, and toApi has said so already
            }
            return;
        }
        if (res.isSent()) {
            LOG.debug("not sending error {} ({}): the response was already sent", e.status(), e.getMessage());
            return;
        }
        res.status(Status.create(e.status()));
        res.header("Content-Type", "application/json");
        if (e.retryAfterSeconds() >= 0) {
            res.header("Retry-After", Long.toString(e.retryAfterSeconds()));
        }
        if (e.status() == 413) {
            // NOTE: a body refused for its size (a chunked one, found while reading) is left unread: the connection
            // cannot carry another request, and a client told so does not reuse it into a reset.
            res.header(HeaderValues.CONNECTION_CLOSE);
        }
        res.send(body(e));
    }
}
