package dev.bulkhead.router;

import dev.bulkhead.engine.api.TokenStream;
import java.util.concurrent.CompletableFuture;

/**
 * A routed request streamed token by token. The model is picked as for {@link Router#submit}, and the next in the
 * chain is tried only while no token has arrived; after the first token a failure ends the stream with the error.
 *
 * @param tokens the deltas (one subscriber) and the whole completion; cancelling either aborts the request
 * @param origin completes with who serves the stream before its first delta is published, or fails with the
 *               rejection when nobody can
 */
public record RoutedStream(TokenStream tokens, CompletableFuture<RoutedOrigin> origin) {
}
