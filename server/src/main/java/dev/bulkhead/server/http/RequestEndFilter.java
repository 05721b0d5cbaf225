package dev.bulkhead.server.http;

import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

/**
 * Tells the {@link GuardedConnection} when a request has been handled, which Helidon's connection events do not:
 * the connection then times the wait for the next request as keep-alive idle time, scans the next request head, and
 * ends after this answer when the client asked to close. Must be the first (outermost) filter, so it sees every
 * request, including those a later filter answers itself. Does nothing outside a {@link HttpListener}.
 */
final class RequestEndFilter implements Filter {

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        GuardedConnection conn = GuardedConnection.CURRENT.isBound() ? GuardedConnection.CURRENT.get() : null;
        boolean completed = false;
        try {
            chain.proceed();
            completed = true;
        } finally {
            if (conn != null) {
                conn.requestHandled(completed, req.content().consumed());
            }
        }
    }
}
