package dev.bulkhead.server.http;

import java.io.ByteArrayOutputStream;

/**
 * Undoes HTTP/1.1 chunked framing ({@code size CRLF data CRLF ... 0 CRLF trailers CRLF}) on bytes that arrive in
 * pieces of any size, keeping only the data. It exists for HTTP/1.0 clients: RFC 9112 forbids sending them
 * {@code Transfer-Encoding}, but Helidon frames every streamed response (SSE) in chunks, so {@link GuardedWriter}
 * passes such a response through this and ends it by closing the connection instead.
 */
final class ChunkedDecoder {

    private enum State { SIZE, SIZE_EXTENSION, SIZE_LF, DATA, DATA_CR, DATA_LF, TRAILER, TRAILER_LF, DONE }

    private State state = State.SIZE;
    private long remaining;
    private boolean trailerLineEmpty = true;

    /** The data bytes in {@code in[offset, offset + length)}; framing, and anything after the end, is dropped. */
    byte[] decode(byte[] in, int offset, int length) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(length);
        int i = offset;
        int end = offset + length;
        while (i < end && state != State.DONE) {
            if (state == State.DATA) {
                int n = (int) Math.min(remaining, end - i);
                out.write(in, i, n);
                i += n;
                remaining -= n;
                if (remaining == 0) {
                    state = State.DATA_CR;
                }
                continue;
            }
            step(in[i++]);
        }
        return out.toByteArray();
    }

    /** True once the last chunk and its trailers have gone by. */
    boolean done() {
        return state == State.DONE;
    }

    private void step(byte b) {
        switch (state) {
            case SIZE -> {
                int digit = Character.digit(b, 16);
                if (digit >= 0) {
                    remaining = remaining * 16 + digit;
                } else if (b == ';' || b == ' ' || b == '\t') {
                    state = State.SIZE_EXTENSION;
                } else if (b == '\r') {
                    state = State.SIZE_LF;
                } else {
                    throw malformed(b);
                }
            }
            case SIZE_EXTENSION -> {
                if (b == '\r') {
                    state = State.SIZE_LF;
                }
            }
            case SIZE_LF -> {
                expect(b, '\n');
                if (remaining == 0) {
                    state = State.TRAILER;
                    trailerLineEmpty = true;
                } else {
                    state = State.DATA;
                }
            }
            case DATA_CR -> {
                expect(b, '\r');
                state = State.DATA_LF;
            }
            case DATA_LF -> {
                expect(b, '\n');
                state = State.SIZE;
            }
            case TRAILER -> {
                if (b == '\r') {
                    state = State.TRAILER_LF;
                } else {
                    trailerLineEmpty = false;
                }
            }
            case TRAILER_LF -> {
                expect(b, '\n');
                state = trailerLineEmpty ? State.DONE : State.TRAILER;
                trailerLineEmpty = true;
            }
            default -> throw new IllegalStateException("unexpected state " + state);
        }
    }

    private static void expect(byte b, char wanted) {
        if (b != wanted) {
            throw malformed(b);
        }
    }

    private static IllegalStateException malformed(byte b) {
        return new IllegalStateException("malformed chunked framing at byte 0x" + Integer.toHexString(b & 0xff));
    }
}
