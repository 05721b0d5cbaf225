package dev.bulkhead.server.http;

import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.http.Status;

/**
 * Answers what Helidon rejects before routing (a malformed request line or header, 413 for a declared body over the
 * limit, 414, 431, 505, and the 503 of an ops-only connection) in OpenAI's error shape, like every other error of
 * the API, instead of Helidon's plain text. The connection is closed after it.
 */
final class ApiDirectHandler implements DirectHandler {

    private final ErrorResponses errors;
    private final long maxBodyBytes;

    ApiDirectHandler(ErrorResponses errors, long maxBodyBytes) {
        this.errors = errors;
        this.maxBodyBytes = maxBodyBytes;
    }

    @Override
    public TransportResponse handle(TransportRequest request, EventType eventType, Status status,
                                    ServerResponseHeaders headers, String message) {
        ApiException e = toApi(status, message);
        headers.set(HeaderNames.CONTENT_TYPE, "application/json");
        if (e.retryAfterSeconds() >= 0) {
            headers.set(HeaderNames.RETRY_AFTER, Long.toString(e.retryAfterSeconds()));
        }
        return TransportResponse.builder()
                .status(status)
                .headers(headers)
                .keepAlive(false)
                .entity(errors.body(e))
                .build();
    }

    private ApiException toApi(Status status, String message) {
        // NOTE: Helidon passes its message only when it is safe to show, else a generic one that says nothing.
        String detail = message == null || message.startsWith("Bad request, see server log") ? null : message;
        int code = status.code();
        return switch (code) {
            case 400 -> new ApiException(400, "invalid_request_error", null, "bad_request",
                    "malformed HTTP request" + (detail == null ? "" : ": " + detail), -1);
            case 413 -> new ApiException(413, "invalid_request_error", null, "request_too_large",
                    "request body is larger than the limit of " + maxBodyBytes + " bytes", -1);
            case 414 -> new ApiException(414, "invalid_request_error", null, "uri_too_long",
                    "request line is too long", -1);
            case 431 -> new ApiException(431, "invalid_request_error", null, "request_header_fields_too_large",
                    "request headers are larger than " + ConnectionLimits.MAX_HEADER_BYTES + " bytes", -1);
            case 503 -> new ApiException(503, "service_unavailable", null, "too_many_connections",
                    detail == null ? "the server is at its connection limit; retry later" : detail, 1);
            case 505 -> new ApiException(505, "invalid_request_error", null, "http_version_not_supported",
                    "HTTP/1.1 and HTTP/1.0 are supported", -1);
            default -> code >= 500
                    ? new ApiException(code, "server_error", null, "internal_error", "internal error", -1)
                    : new ApiException(code, "invalid_request_error", null, null,
                            status.reasonPhrase() + (detail == null ? "" : ": " + detail), -1);
        };
    }
}
