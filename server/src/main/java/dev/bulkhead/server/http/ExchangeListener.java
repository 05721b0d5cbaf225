package dev.bulkhead.server.http;

import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.http.Method;
import io.helidon.http.RequestException;
import io.helidon.http.Status;
import io.helidon.http.WritableHeaders;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http1.Http1ConnectionListener;

/**
 * Helidon's HTTP/1 events, where the connection-level rules are applied: on the request side after the request line
 * and after the headers (before routing), on the response side just before the head is serialized (the headers are
 * still writable then). Registered on every {@link GuardedConnection}; the per-connection state comes through it.
 */
final class ExchangeListener {

    private ExchangeListener() {
    }

    /** Request events: one request per {@code Connection: close}, ops-only reserve slots, 413 before 100-continue. */
    static final class Requests implements Http1ConnectionListener {

        private final long maxBodyBytes;

        Requests(long maxBodyBytes) {
            this.maxBodyBytes = maxBodyBytes;
        }

        @Override
        public void prologue(ConnectionContext ctx, HttpPrologue prologue) {
            if (!(ctx instanceof GuardedConnection conn)) {
                return;
            }
            Exchange ex = conn.exchange();
            if (ex.closeAfterResponse) {
                // NOTE: RFC 9112 9.6: after "close" the server must not process further (pipelined) requests.
                throw new CloseConnectionException("request after Connection: close; closing");
            }
            conn.requestStarted(prologue.method() == Method.HEAD);
            if (conn.opsOnly() && !opsRequest(prologue)) {
                throw RequestException.builder()
                        .type(DirectHandler.EventType.OTHER)
                        .status(Status.SERVICE_UNAVAILABLE_503)
                        .setKeepAlive(false)
                        .message("the server is at its connection limit; this connection may only ask /health, "
                                + "/ready or /metrics. Retry later.")
                        .safeMessage(true)
                        .build();
            }
        }

        @Override
        public void headers(ConnectionContext ctx, Headers headers) {
            if (!(ctx instanceof GuardedConnection conn) || !(headers instanceof WritableHeaders<?> h)) {
                return;
            }
            long declared = declaredLength(h);
            if (declared > maxBodyBytes) {
                // NOTE: before routing, so before Helidon could send "100 Continue" for a body we would refuse, and
                // the connection closes instead of reading a body it would only throw away.
                throw RequestException.builder()
                        .type(DirectHandler.EventType.PAYLOAD_TOO_LARGE)
                        .status(Status.REQUEST_ENTITY_TOO_LARGE_413)
                        .setKeepAlive(false)
                        .message("request body is larger than the limit of " + maxBodyBytes + " bytes")
                        .safeMessage(true)
                        .build();
            }
            Exchange ex = conn.exchange();
            boolean close = h.containsToken(HeaderValues.CONNECTION_CLOSE)
                    || (ex.http10 && !h.containsToken(HeaderValues.CONNECTION_KEEP_ALIVE))
                    || conn.opsOnly() || conn.guard().isStopping();
            if (close) {
                // NOTE: Helidon answers "Connection: close" to this; the reader then ends the connection after it.
                h.set(HeaderValues.CONNECTION_CLOSE);
                ex.closeAfterResponse = true;
            }
            conn.headReceived();
        }

        private static boolean opsRequest(HttpPrologue prologue) {
            if (prologue.method() != Method.GET && prologue.method() != Method.HEAD) {
                return false;
            }
            String path = prologue.uriPath().path();
            return path.equals("/health") || path.equals("/ready") || path.startsWith("/ready/")
                    || path.equals("/metrics");
        }

        private static long declaredLength(WritableHeaders<?> h) {
            try {
                return h.contentLength().orElse(-1);
            } catch (IllegalArgumentException e) {
                return -1; // NOTE: malformed; Helidon rejects it with a 400 when it frames the body.
            }
        }
    }

    /** Response events: HEAD answers lose their body, HTTP/1.0 answers lose chunked framing. */
    static final class Responses implements Http1ConnectionListener {

        @Override
        public void headers(ConnectionContext ctx, Headers headers) {
            if (!(ctx instanceof GuardedConnection conn) || !(headers instanceof WritableHeaders<?> h)) {
                return;
            }
            Exchange ex = conn.exchange();
            ResponseBodyFilter.Mode mode = null;
            if (ex.http10 && h.containsToken(HeaderValues.TRANSFER_ENCODING_CHUNKED)) {
                // NOTE: RFC 9112 6.1: no Transfer-Encoding to a 1.0 client; its body ends where the connection does.
                h.remove(HeaderNames.TRANSFER_ENCODING);
                h.set(HeaderValues.CONNECTION_CLOSE);
                mode = ResponseBodyFilter.Mode.DECHUNK;
            }
            if (ex.head) {
                mode = ResponseBodyFilter.Mode.DROP;
            }
            ex.bodyFilter = mode == null ? null : new ResponseBodyFilter(mode);
            if (h.containsToken(HeaderValues.CONNECTION_CLOSE)) {
                ex.closeAfterResponse = true;
            }
        }
    }
}
