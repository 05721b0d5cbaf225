package dev.bulkhead.router.ipc;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Reads one frame's payload; running past its end, or a length that cannot be, is a {@link ProtocolException}. */
public final class WireIn {

    private final ByteBuffer buf;

    public WireIn(ByteBuffer payload) {
        this.buf = payload;
    }

    public int u8() {
        try {
            return buf.get() & 0xff;
        } catch (BufferUnderflowException e) {
            throw truncated();
        }
    }

    public boolean bool() {
        return u8() != 0;
    }

    public int i32() {
        try {
            return buf.getInt();
        } catch (BufferUnderflowException e) {
            throw truncated();
        }
    }

    public long i64() {
        try {
            return buf.getLong();
        } catch (BufferUnderflowException e) {
            throw truncated();
        }
    }

    public float f32() {
        try {
            return buf.getFloat();
        } catch (BufferUnderflowException e) {
            throw truncated();
        }
    }

    public double f64() {
        try {
            return buf.getDouble();
        } catch (BufferUnderflowException e) {
            throw truncated();
        }
    }

    public String str() {
        int n = i32();
        if (n == -1) {
            return null;
        }
        check(n, 1);
        String s = new String(buf.array(), buf.arrayOffset() + buf.position(), n, StandardCharsets.UTF_8);
        buf.position(buf.position() + n);
        return s;
    }

    public int[] ints() {
        int n = i32();
        if (n == -1) {
            return null;
        }
        check(n, 4);
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            v[i] = buf.getInt();
        }
        return v;
    }

    /** A count of items of at least {@code minBytes} each, checked against what is left. */
    public int count(int minBytes) {
        int n = i32();
        check(n, minBytes);
        return n;
    }

    /** Reads and drops one {@code i32} (a request id the caller already knows); returns this. */
    public WireIn skipInt() {
        i32();
        return this;
    }

    /** Bytes left unread. */
    public int remaining() {
        return buf.remaining();
    }

    private void check(int n, int unit) {
        if (n < 0 || (long) n * unit > buf.remaining()) {
            throw new ProtocolException("length " + n + " past the end of a " + buf.limit() + "-byte payload");
        }
    }

    private static ProtocolException truncated() {
        return new ProtocolException("payload ends early");
    }
}
