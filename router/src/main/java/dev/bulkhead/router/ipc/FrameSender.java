package dev.bulkhead.router.ipc;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
    /** Frames written by one gathering write at most (a step's deltas for 256 running requests). */
    private static final int MAX_BATCH = 256;

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
        // NOTE: a step's deltas for every running request arrive together; one gathering write for all that is
        // queued costs one system call and one wake-up of the peer's reader, not one per frame.
        List<Queued> batch = new ArrayList<>(MAX_BATCH);
        ByteBuffer[] frames = new ByteBuffer[MAX_BATCH];
        try {
            while (true) {
                batch.add(queue.take());
                queue.drainTo(batch, MAX_BATCH - 1);
                int count = 0;
                boolean poisoned = false;
                for (Queued q : batch) {
                    if (q == POISON) {
                        poisoned = true;
                        break;
                    }
                    frames[count++] = q.frame();
                }
                if (count > 0) {
                    headSinceNanos = batch.getFirst().enqueuedNanos();
                    channel.write(frames, count);
                    headSinceNanos = 0;
                }
                Arrays.fill(frames, 0, count, null);
                batch.clear();
                if (poisoned) {
                    return;
                }
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
