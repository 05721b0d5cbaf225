package dev.bulkhead.router;

import java.time.Duration;
import java.util.Objects;

/** The router could not serve a request and says why and when to try again. */
public class RouterRejectedException extends RuntimeException {

    /** Why a request was rejected. */
    public enum Reason {
        /** Every model of the route has its queue for this priority class full, or the retry budget is spent. */
        OVERLOADED,
        /** No model of the route can answer before the request's deadline (decided before queueing). */
        DEADLINE_UNMEETABLE,
        /** The alias is not in the routing table and names no model. */
        NO_ROUTE,
        /** Every model of the route is down, open-circuited or failed, and no cached answer exists. */
        MODEL_UNAVAILABLE,
        /** The router is shutting down ({@link Router#drain}) and takes no new requests. */
        DRAINING
    }

    private final Reason reason;
    private final Duration retryAfter;

    public RouterRejectedException(Reason reason, Duration retryAfter, String message) {
        super(reason + ": " + message);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.retryAfter = Objects.requireNonNull(retryAfter, "retryAfter");
    }

    public Reason reason() {
        return reason;
    }

    /** When a retry may succeed; {@link Duration#ZERO} when only a configuration change will help. */
    public Duration retryAfter() {
        return retryAfter;
    }
}
