package dev.bulkhead.router.ipc;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Frames over one connected, blocking stream socket. One thread reads ({@link #read()}); writes are whole frames
 * under a lock, so frames from several writers never interleave.
 */
public final class FrameChannel implements AutoCloseable {

    /** Largest frame either side accepts; a larger length is a protocol violation, not an allocation. */
    public static final int MAX_FRAME_BYTES = 4 << 20;

    private static final int READ_BUFFER_BYTES = 64 << 10;

    private final SocketChannel channel;
    private final ReentrantLock writeLock = new ReentrantLock();
    // NOTE: frames are read through one buffer, so a burst (a step's deltas for a whole batch) costs one read call,
    // not two per frame.
    private final ByteBuffer in = ByteBuffer.allocate(READ_BUFFER_BYTES).flip();

    public FrameChannel(SocketChannel channel) {
        this.channel = channel;
    }

    /**
     * Blocks for the next frame; null at a clean end of stream (between frames). The frame's payload is valid until
     * the next call.
     *
     * @throws EOFException      the stream ended inside a frame
     * @throws ProtocolException the frame is malformed or too large
     */
    public Frame read() throws IOException {
        if (!buffer(5, true)) {
            return null;
        }
        int length = in.getInt();
        FrameType type = FrameType.of(in.get());
        if (length < 1 || length > MAX_FRAME_BYTES) {
            throw new ProtocolException("frame length " + length + " outside [1, " + MAX_FRAME_BYTES + "]");
        }
        int n = length - 1;
        ByteBuffer payload;
        if (n <= in.capacity()) {
            buffer(n, false);
            payload = in.slice(in.position(), n);
            in.position(in.position() + n);
        } else {
            payload = ByteBuffer.allocate(n);
            payload.put(in);
            while (payload.hasRemaining()) {
                if (channel.read(payload) < 0) {
                    throw new EOFException("stream ended inside a frame");
                }
            }
            payload.flip();
        }
        return new Frame(type, new WireIn(payload), length + 4);
    }

    /** Makes at least {@code n} bytes readable in the buffer; false at a clean end of stream when allowed. */
    private boolean buffer(int n, boolean atFrameStart) throws IOException {
        while (in.remaining() < n) {
            in.compact();
            int r = channel.read(in);
            in.flip();
            if (r < 0) {
                if (atFrameStart && in.remaining() == 0) {
                    return false;
                }
                throw new EOFException("stream ended inside a frame");
            }
        }
        return true;
    }

    /** Writes one finished frame (from {@link WireOut#finish()}) whole. */
    public void write(ByteBuffer frame) throws IOException {
        writeLock.lock();
        try {
            while (frame.hasRemaining()) {
                channel.write(frame);
            }
        } finally {
            writeLock.unlock();
        }
    }

    /** Writes finished frames whole, in order, with as few gathering writes as the socket allows. */
    public void write(ByteBuffer[] frames, int count) throws IOException {
        writeLock.lock();
        try {
            int first = 0;
            while (first < count) {
                channel.write(frames, first, count - first);
                while (first < count && !frames[first].hasRemaining()) {
                    first++;
                }
            }
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // NOTE: closing a socket whose peer is gone can fail; there is nothing left to release.
        }
    }
}
