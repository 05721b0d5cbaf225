package dev.bulkhead.router;

import dev.bulkhead.engine.api.Completion;

/**
 * A routed answer that says who produced it.
 *
 * @param completion the engine's completion (from the cache when {@code servedBy} is {@value Route#CACHE})
 * @param servedBy   model that produced it, or {@value Route#CACHE}
 * @param degraded   true when it came from the fallback chain (another model or the cache), not the route's
 *                   chosen target
 * @param attempts   model attempts made (a cache answer adds none)
 */
public record RoutedCompletion(Completion completion, String servedBy, boolean degraded, int attempts) {
}
