package dev.bulkhead.server.http;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives every request its {@link RequestId} (echoed in {@code X-Request-Id}), logs one line per request (method,
 * path, status, time; never the body, so prompts stay out of logs) and counts requests by path and status.
 */
final class RequestLogFilter implements Filter {

    private static final Logger LOG = LoggerFactory.getLogger(RequestLogFilter.class);

    private final MeterRegistry registry;

    RequestLogFilter(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        RequestId id = RequestId.fromHeader(req.headers().first(HeaderNames.create(RequestId.HEADER)).orElse(null));
        req.context().register(id);
        res.header(RequestId.HEADER, id.value());
        long start = System.nanoTime();
        try {
            chain.proceed();
        } finally {
            int status = res.status().code();
            String path = req.path().path();
            LOG.info("request {} {} {} -> {} in {} ms", id.value(), req.prologue().method().text(), path, status,
                    (System.nanoTime() - start) / 1_000_000);
            Counter.builder("bulkhead.http.requests").description("HTTP requests by path and status")
                    .tag("path", knownPath(path)).tag("status", Integer.toString(status))
                    .register(registry).increment();
        }
    }

    /** Keeps the tag's values bounded: unknown paths share one value. */
    private static String knownPath(String path) {
        return switch (path) {
            case "/v1/completions", "/v1/chat/completions", "/v1/models", "/tokenize", "/detokenize", "/health",
                 "/ready", "/metrics" -> path;
            default -> "other";
        };
    }
}
