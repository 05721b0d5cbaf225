package dev.bulkhead.router.ipc;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;

/**
 * One platform thread that writes queued frames to a {@link FrameChannel}, so that nobody who produces a frame
 * (an engine's delivery thread, a router request) ever blocks on the socket. Knows how long the frame at the head
 * of the queue has waited, which is how a peer that stopped reading is found.
 */
public final class FrameSender implements AutoCloseable {

    private record Queued(ByteBuffer frame, long enqueuedNanos) {
    }

    private static final Queued POISON = new Queued(ByteBuffer.allocate(0), 0);

    private final FrameChannel channel;
    private final LinkedBlockingQueue<Queued> queue = new LinkedBlockingQueue<>();
    private final Consumer<IOException> onFailure;
    private final Thread thread;
    private volatile long headSinceNanos;
    private volatile boolean closed;

    /**
     * @param name      the thread's name
     * @param onFailure called once, on the sender thread, when a write fails (the peer is gone)
     */
    public FrameSender(FrameChannel channel, String name, Consumer<IOException> onFailure) {
        this.channel = channel;
        this.onFailure = onFailure;
        this.thread = Thread.ofPlatform().daemon().name(name).start(this::run);
    }

    /** Queues a frame; never blocks. Dropped once the sender is closed. */
    public void send(ByteBuffer frame) {
        if (!closed) {
            queue.add(new Queued(frame, System.nanoTime()));
        }
    }

    /** Frames waiting, the one being written included. */
    public int queued() {
        return queue.size() + (headSinceNanos != 0 ? 1 : 0);
    }

    /** How long the oldest unwritten frame has waited, in nanoseconds (0 when everything is written). */
    public long stalledNanos(long nowNanos) {
        long since = headSinceNanos;
        if (since == 0) {
            Queued q = queue.peek();
            since = q == null || q == POISON ? 0 : q.enqueuedNanos();
        }
        return since == 0 ? 0 : Math.max(0, nowNanos - since);
    }

    private void run() {
        try {
            while (true) {
                Queued q = queue.take();
                if (q == POISON) {
                    return;
                }
                headSinceNanos = q.enqueuedNanos();
                channel.write(q.frame());
                headSinceNanos = 0;
            }
        } catch (IOException e) {
            if (!closed) {
                onFailure.accept(e);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            headSinceNanos = 0;
        }
    }

    /** Stops after the frames already queued (a blocked write ends when the channel is closed). */
    @Override
    public void close() {
        closed = true;
        queue.add(POISON);
    }

    /** Stops now, dropping what is queued. */
    public void abort() {
        closed = true;
        queue.clear();
        queue.add(POISON);
        thread.interrupt();
    }
}
