package dev.bulkhead.server.http;

/**
 * What the pieces of one connection need to know about the request it is serving now: which HTTP version the
 * client spoke, whether it asked HEAD, whether the connection must close after the response, and what to do with
 * the response body. Written by the {@link ExchangeListener}s (from what the {@link RequestHeadScanner} saw), read by
 * {@link GuardedWriter}; all of them run on the connection's own thread, so no field needs to be volatile.
 */
final class Exchange {

    /** The client sent {@code HTTP/1.0} (the request line was rewritten to 1.1 for Helidon). */
    boolean http10;
    /** The method is HEAD: the response goes out without its body. */
    boolean head;
    /** The client asked to close, or the server decided to: the connection ends after this response. */
    boolean closeAfterResponse;
    /** What the writer does to the body of the response being written; null to pass it as is. */
    ResponseBodyFilter bodyFilter;

    /** Helidon parsed a request line: from here on, what is written answers this request. */
    void requestStarted(boolean isHead, boolean isHttp10) {
        head = isHead;
        http10 = isHttp10;
        // NOTE: reset here, not when the previous request ended: Helidon commits a streamed response (its last
        // chunk) and error responses after the routing filters return, and a filter left by the previous response
        // must not touch this request's "100 Continue" either.
        bodyFilter = null;
    }
}
