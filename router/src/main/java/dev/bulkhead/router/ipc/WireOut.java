package dev.bulkhead.router.ipc;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Builds one frame: {@code u32 length · u8 type · payload}, big-endian. Each frame gets its own buffer, since a
 * sender thread writes it later.
 */
public final class WireOut {

    private ByteBuffer buf;

    private WireOut(FrameType type, int capacity) {
        buf = ByteBuffer.allocate(Math.max(16, capacity));
        buf.putInt(0);
        buf.put((byte) type.code());
    }

    /** A frame of {@code type}; {@code capacity} is a hint. */
    public static WireOut frame(FrameType type, int capacity) {
        return new WireOut(type, capacity);
    }

    public WireOut u8(int v) {
        room(1).put((byte) v);
        return this;
    }

    public WireOut bool(boolean v) {
        return u8(v ? 1 : 0);
    }

    public WireOut i32(int v) {
        room(4).putInt(v);
        return this;
    }

    public WireOut i64(long v) {
        room(8).putLong(v);
        return this;
    }

    public WireOut f32(float v) {
        room(4).putFloat(v);
        return this;
    }

    public WireOut f64(double v) {
        room(8).putDouble(v);
        return this;
    }

    /** A string: byte length (-1 for null), then UTF-8. */
    public WireOut str(String s) {
        if (s == null) {
            return i32(-1);
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        i32(b.length);
        room(b.length).put(b);
        return this;
    }

    /** Raw bytes, no length (a flood drill's filler). */
    public WireOut bytes(byte[] b) {
        room(b.length).put(b);
        return this;
    }

    /** Ints: count (-1 for null), then each. */
    public WireOut ints(int[] v) {
        if (v == null) {
            return i32(-1);
        }
        i32(v.length);
        ByteBuffer b = room(4 * v.length);
        for (int x : v) {
            b.putInt(x);
        }
        return this;
    }

    /** The finished frame, length filled in, ready to write. */
    public ByteBuffer finish() {
        buf.putInt(0, buf.position() - 4);
        buf.flip();
        return buf;
    }

    private ByteBuffer room(int n) {
        if (buf.remaining() < n) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(buf.capacity() * 2, buf.position() + n));
            buf.flip();
            bigger.put(buf);
            buf = bigger;
        }
        return buf;
    }
}
