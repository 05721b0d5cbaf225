package dev.bulkhead.router;

/**
 * Who serves a routed stream, known before its first delta.
 *
 * @param servedBy model that serves it, or {@value Route#CACHE}
 * @param degraded true when a fallback (another model or the cache) serves it, not the route's chosen target
 * @param attempts model attempts made, the serving one included (a cache answer adds none)
 */
public record RoutedOrigin(String servedBy, boolean degraded, int attempts) {
}
