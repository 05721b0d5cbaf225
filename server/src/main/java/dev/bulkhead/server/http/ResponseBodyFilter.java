package dev.bulkhead.server.http;

import java.util.Arrays;

/**
 * What {@link GuardedWriter} does to one response's bytes after its head (status line and headers, which always go
 * through): drop the body, for a HEAD request (RFC 9110: the same headers as GET, no content; Helidon writes the
 * body of whatever handler answered), or strip chunked framing, for an HTTP/1.0 client.
 *
 * <p>One instance per response; the head's end is the first CRLF CRLF, which Helidon writes before any body byte.
 */
final class ResponseBodyFilter {

    /** What to do with the body. */
    enum Mode {
        /** HEAD: send the head only. */
        DROP,
        /** HTTP/1.0 and a chunked response: send the data without the framing; closing the connection ends it. */
        DECHUNK
    }

    private final Mode mode;
    private final ChunkedDecoder decoder;
    private boolean inBody;
    private int tail;

    ResponseBodyFilter(Mode mode) {
        this.mode = mode;
        this.decoder = mode == Mode.DECHUNK ? new ChunkedDecoder() : null;
    }

    /** The bytes of {@code in} to put on the wire. */
    byte[] apply(byte[] in) {
        int bodyStart = inBody ? 0 : headEnd(in);
        if (bodyStart < 0) {
            return in;
        }
        byte[] kept = mode == Mode.DROP ? new byte[0] : decoder.decode(in, bodyStart, in.length - bodyStart);
        byte[] out = Arrays.copyOf(in, bodyStart + kept.length);
        System.arraycopy(kept, 0, out, bodyStart, kept.length);
        return out;
    }

    /** Where the body starts in {@code in}, or -1 when the head goes on past it. */
    private int headEnd(byte[] in) {
        for (int i = 0; i < in.length; i++) {
            // NOTE: the last four bytes seen, so a CRLF CRLF split over two writes is still found.
            tail = (tail << 8) | (in[i] & 0xff);
            if (tail == 0x0d0a0d0a) {
                inBody = true;
                return i + 1;
            }
        }
        return -1;
    }
}
