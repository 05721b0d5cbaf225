package dev.bulkhead.server.http;

import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import java.net.InetAddress;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Applies {@link BrowserAccess}: without API keys, refuses (403 in OpenAI's shape) a request whose {@code Host} is
 * not a loopback name or address or a listed name (DNS rebinding), and one whose {@code Origin} is not listed
 * (cross-site requests, which need no preflight for a {@code text/plain} POST). For listed origins it answers CORS
 * preflights and adds CORS headers, keys or not; a preflight from any other origin is refused.
 *
 * <p>Requests without {@code Origin}, as curl and the OpenAI SDKs send them, pass the origin check. With API keys the
 * {@code Host} and {@code Origin} checks are off: a page has no key, and without CORS headers it cannot read answers.
 */
final class BrowserGuardFilter implements Filter {

    /** Response headers a page may read when CORS lets it read the response at all. */
    static final String EXPOSED = "X-Request-Id, " + CompletionHandler.SERVED_BY + ", " + CompletionHandler.DEGRADED
            + ", Retry-After";
    private static final String DEFAULT_ALLOWED_HEADERS = "Authorization, Content-Type";
    private static final Pattern HEADER_LIST = Pattern.compile("[A-Za-z0-9!#$%&'*+.^_`|~-]+(\\s*,\\s*"
            + "[A-Za-z0-9!#$%&'*+.^_`|~-]+)*");
    private static final String MAX_AGE_SECONDS = "600";

    private final BrowserAccess access;
    private final boolean unauthenticated;
    private final boolean anyAddressHost;
    private final ErrorResponses errors;

    /**
     * @param unauthenticated whether the server runs without API keys, which turns the Host and Origin checks on
     * @param anyAddressHost  whether any IP address is a good {@code Host} (the server listens beyond loopback, where
     *                        clients name it by address; DNS rebinding always needs a name)
     */
    BrowserGuardFilter(BrowserAccess access, boolean unauthenticated, boolean anyAddressHost, ErrorResponses errors) {
        this.access = access;
        this.unauthenticated = unauthenticated;
        this.anyAddressHost = anyAddressHost;
        this.errors = errors;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        if (unauthenticated) {
            Optional<String> host = req.headers().first(HeaderNames.HOST);
            if (host.isPresent() && !hostAllowed(host.get())) {
                refuse(res, "host_not_allowed", "Host '" + host.get() + "' is not allowed: a server without API keys "
                        + "answers only loopback names and addresses (against DNS rebinding); list the name with "
                        + "--allowed-hosts");
                return;
            }
        }
        if (access.corsEnabled()) {
            res.header(HeaderNames.VARY, "Origin");
        }
        Optional<String> origin = req.headers().first(HeaderNames.ORIGIN);
        if (origin.isEmpty()) {
            chain.proceed();
            return;
        }
        boolean preflight = req.prologue().method() == Method.OPTIONS
                && req.headers().contains(HeaderNames.ACCESS_CONTROL_REQUEST_METHOD);
        if (!access.allowsOrigin(origin.get())) {
            if (unauthenticated || preflight) {
                refuse(res, "origin_not_allowed", "Origin '" + origin.get() + "' is not allowed: web pages may use "
                        + "this server only from origins listed with --allowed-origins");
                return;
            }
            // NOTE: with keys a page cannot authenticate, and without CORS headers its browser hides the answer.
            chain.proceed();
            return;
        }
        res.header(HeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, origin.get());
        res.header(HeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSED);
        if (preflight) {
            String asked = req.headers().first(HeaderNames.ACCESS_CONTROL_REQUEST_HEADERS).orElse("").strip();
            res.header(HeaderNames.ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS");
            res.header(HeaderNames.ACCESS_CONTROL_ALLOW_HEADERS,
                    HEADER_LIST.matcher(asked).matches() ? asked : DEFAULT_ALLOWED_HEADERS);
            res.header(HeaderNames.ACCESS_CONTROL_MAX_AGE, MAX_AGE_SECONDS);
            res.status(Status.NO_CONTENT_204).send();
            return;
        }
        chain.proceed();
    }

    private void refuse(RoutingResponse res, String code, String message) {
        errors.send(res, new ApiException(403, "invalid_request_error", null, code, message, -1));
    }

    /** Whether a {@code Host} header names this server in a way DNS rebinding cannot produce. */
    boolean hostAllowed(String header) {
        String name = hostName(header);
        if (name.equals("localhost") || name.endsWith(".localhost") || access.allowsHostName(name)) {
            return true;
        }
        Optional<InetAddress> address = literal(name);
        return address.isPresent() && (anyAddressHost || address.get().isLoopbackAddress());
    }

    /** The name or address of a {@code Host} value, without port, brackets or a trailing dot, lower case. */
    static String hostName(String header) {
        String h = header.strip().toLowerCase(Locale.ROOT);
        String name;
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            name = end < 0 ? h : h.substring(1, end);
        } else {
            int colon = h.lastIndexOf(':');
            name = colon >= 0 && h.indexOf(':') == colon ? h.substring(0, colon) : h;
        }
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }

    /** The address {@code name} spells, without any DNS lookup; empty for a name. */
    private static Optional<InetAddress> literal(String name) {
        try {
            return Optional.of(InetAddress.ofLiteral(name));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
