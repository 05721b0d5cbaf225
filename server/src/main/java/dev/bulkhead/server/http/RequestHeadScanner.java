package dev.bulkhead.server.http;

import io.helidon.http.DirectHandler;
import io.helidon.http.RequestException;
import io.helidon.http.Status;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * Looks at the bytes of each request head on their way from the socket to Helidon's parser, for the two things
 * that parser cannot be asked to do:
 * <ul>
 *   <li>HTTP/1.0: Helidon 4 rejects it with 505 before any hook runs ({@code Http1Prologue} is final and built
 *       inside the connection). The request line is held until it is complete; if it ends in {@code HTTP/1.0} the
 *       version is rewritten to 1.1 (same length) and {@link Exchange#http10} set, so the listener can keep 1.0's
 *       semantics (close unless keep-alive is asked, no chunked framing). A 1.0 head without {@code Host} (HAProxy's
 *       {@code httpchk} sends none) gets one naming the local address, since 1.1 requires it.</li>
 *   <li>431: Helidon's header-size limit ends in a bare 400 whose reason its error handler cannot see. The header
 *       bytes are counted here, and past {@link ConnectionLimits#MAX_HEADER_BYTES} this throws a 431, which Helidon
 *       answers through the {@link ApiDirectHandler} (Helidon's own limit is set above ours).</li>
 * </ul>
 * Only the head is scanned: {@link #rearm()} is called when a request has been handled, and the bytes read after
 * that start the next head. Bytes already buffered past a head (a pipelined request) are not seen again; such a
 * request is served as sent, so a pipelined HTTP/1.0 request after a 1.1 one gets Helidon's 505.
 */
final class RequestHeadScanner {

    private enum State { LINE, HEADERS, HEADERS_HELD, DONE }

    /** RFC 6585's status, which Helidon's {@link Status} has no constant for. */
    static final Status HEADERS_TOO_LARGE = Status.create(431, "Request Header Fields Too Large");
    private static final byte[] HTTP_1_0 = " HTTP/1.0\r\n".getBytes(StandardCharsets.US_ASCII);

    private final int maxLineBytes;
    private final int maxHeaderBytes;
    private final String localHost;
    private final ByteArrayOutputStream held = new ByteArrayOutputStream(256);
    private State state = State.LINE;
    private int headerBytes;
    private int tail;
    private boolean http10;

    /**
     * @param maxLineBytes   Helidon's request-line limit: a longer line is passed on as is, for its 414
     * @param maxHeaderBytes header bytes allowed after the request line
     * @param localHost      the {@code Host} given to an HTTP/1.0 request that has none ({@code addr:port})
     */
    RequestHeadScanner(int maxLineBytes, int maxHeaderBytes, String localHost) {
        this.maxLineBytes = maxLineBytes;
        this.maxHeaderBytes = maxHeaderBytes;
        this.localHost = localHost;
    }

    /** True while a head is being scanned; false after its end, until {@link #rearm()}. */
    boolean active() {
        return state != State.DONE;
    }

    /** Whether the last request line seen said HTTP/1.0. */
    boolean http10() {
        return http10;
    }

    /**
     * Helidon has parsed a head: stop scanning. Normally the blank line already did; not when the head came in
     * with the previous request's bytes (pipelined), where what is read next is its body.
     */
    void finish() {
        state = State.DONE;
    }

    /** The next bytes read begin a new request head. */
    void rearm() {
        state = State.LINE;
        held.reset();
        headerBytes = 0;
        tail = 0;
        http10 = false;
    }

    /**
     * Takes bytes just read and returns the bytes to hand to Helidon now (possibly none, while a request line or an
     * HTTP/1.0 head is held back).
     *
     * @throws RequestException 431 when the header section is larger than allowed
     */
    byte[] feed(byte[] in) {
        if (state == State.DONE) {
            return in;
        }
        if (state == State.LINE) {
            int before = held.size();
            held.write(in, 0, in.length);
            // NOTE: look only at the new bytes, so a line sent a byte at a time costs linear time, not quadratic.
            if (indexOf(in, (byte) '\n') < 0 && held.size() <= maxLineBytes) {
                return new byte[0];
            }
            return afterLineBytes(before);
        }
        return headerBytes(in, 0);
    }

    private byte[] afterLineBytes(int from) {
        byte[] buf = held.toByteArray();
        int lf = indexOf(buf, from, (byte) '\n');
        if (lf < 0) {
            if (buf.length > maxLineBytes) {
                // NOTE: too long to be a request line; Helidon answers 414 for it.
                state = State.DONE;
                held.reset();
                return buf;
            }
            return new byte[0];
        }
        held.reset();
        http10 = lf + 1 >= HTTP_1_0.length
                && Arrays.equals(buf, lf + 1 - HTTP_1_0.length, lf + 1, HTTP_1_0, 0, HTTP_1_0.length);
        tail = 0x0d0a;
        if (http10) {
            buf[lf - 2] = '1';
            state = State.HEADERS_HELD;
            held.write(buf, 0, lf + 1);
            return headerBytes(buf, lf + 1);
        }
        state = State.HEADERS;
        byte[] rest = headerBytes(buf, lf + 1);
        byte[] out = Arrays.copyOf(buf, lf + 1 + rest.length);
        System.arraycopy(rest, 0, out, lf + 1, rest.length);
        return out;
    }

    /** Counts {@code in[from..]} as header bytes until the blank line; returns what may go on now. */
    private byte[] headerBytes(byte[] in, int from) {
        int i = from;
        boolean ended = false;
        for (; i < in.length; i++) {
            tail = (tail << 8) | (in[i] & 0xff);
            if (++headerBytes > maxHeaderBytes) {
                throw tooLarge();
            }
            if (tail == 0x0d0a0d0a) {
                ended = true;
                i++;
                break;
            }
        }
        if (state == State.HEADERS_HELD) {
            held.write(in, from, (ended ? i : in.length) - from);
            if (!ended) {
                return new byte[0];
            }
            byte[] head = withHost(held.toByteArray());
            held.reset();
            state = State.DONE;
            byte[] out = Arrays.copyOf(head, head.length + in.length - i);
            System.arraycopy(in, i, out, head.length, in.length - i);
            return out;
        }
        if (ended) {
            state = State.DONE;
        }
        return from == 0 ? in : Arrays.copyOfRange(in, from, in.length);
    }

    /** {@code head} with a {@code Host} line after the request line, unless it has one. */
    private byte[] withHost(byte[] head) {
        String text = new String(head, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
        if (text.contains("\r\nhost:")) {
            return head;
        }
        int lineEnd = text.indexOf("\r\n") + 2;
        byte[] host = ("Host: " + localHost + "\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[head.length + host.length];
        System.arraycopy(head, 0, out, 0, lineEnd);
        System.arraycopy(host, 0, out, lineEnd, host.length);
        System.arraycopy(head, lineEnd, out, lineEnd + host.length, head.length - lineEnd);
        return out;
    }

    private static RequestException tooLarge() {
        return RequestException.builder()
                .type(DirectHandler.EventType.BAD_REQUEST)
                .status(HEADERS_TOO_LARGE)
                .setKeepAlive(false)
                .message("request headers are larger than the limit")
                .safeMessage(true)
                .build();
    }

    private static int indexOf(byte[] b, byte v) {
        return indexOf(b, 0, v);
    }

    private static int indexOf(byte[] b, int from, byte v) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == v) {
                return i;
            }
        }
        return -1;
    }
}
