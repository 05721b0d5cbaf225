package dev.bulkhead.server.http;

import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/** 405 in OpenAI's error shape, with the {@code Allow} header RFC 9110 requires on it. */
final class MethodNotAllowed implements Handler {

    private final ErrorResponses errors;
    private final String allow;

    /** @param allow the path's methods, as {@code Allow} lists them ({@code "GET, HEAD"}) */
    MethodNotAllowed(ErrorResponses errors, String allow) {
        this.errors = errors;
        this.allow = allow;
    }

    @Override
    public void handle(ServerRequest req, ServerResponse res) {
        res.header("Allow", allow);
        errors.send(res, new ApiException(405, "invalid_request_error", null, "method_not_allowed",
                req.prologue().method().text() + " is not allowed on " + req.path().path() + " (allowed: " + allow
                        + ")", -1));
    }
}
