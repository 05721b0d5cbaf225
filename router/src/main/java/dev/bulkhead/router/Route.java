package dev.bulkhead.router;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Where one alias sends its traffic: weighted targets (one is picked per request) and, when the pick fails or
 * cannot answer in time, a fallback chain tried in order. A fallback entry names a model, another alias
 * (expanded to its own targets and fallbacks) or {@value #CACHE}, the last good answer to the same prompt.
 *
 * @param targets   weighted targets; one is chosen per request
 * @param fallbacks the fallback chain, in order
 */
public record Route(List<RouteTarget> targets, List<String> fallbacks) {

    /** Fallback entry that serves the cached last good answer for the same alias and prompt. */
    public static final String CACHE = "cache";

    public Route {
        // NOTE: nulls inside the lists are kept (unmodifiable view of a copy) so the validator can name them.
        targets = targets == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(targets));
        fallbacks = fallbacks == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(fallbacks));
    }

    /** A route with one target (weight 1) and the given fallback chain. */
    public static Route to(String model, String... fallbacks) {
        return new Route(List.of(RouteTarget.of(model)), List.of(fallbacks));
    }
}
