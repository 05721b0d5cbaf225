package dev.bulkhead.server.http;

import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The id a request is logged and answered under: the client's {@code X-Request-Id} when it is a sane token,
 * otherwise a fresh one. Kept in the request's context by {@link RequestLogFilter}.
 *
 * @param value the id
 */
record RequestId(String value) {

    /** Header that carries the id both ways. */
    static final String HEADER = "X-Request-Id";

    // NOTE: the id goes into logs and a response header, so only a short, plain token is echoed.
    private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._:\\-]{1,128}");

    static RequestId fromHeader(String header) {
        return header != null && SANE.matcher(header).matches() ? new RequestId(header)
                : new RequestId(UUID.randomUUID().toString());
    }
}
