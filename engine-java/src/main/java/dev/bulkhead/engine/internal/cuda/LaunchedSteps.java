package dev.bulkhead.engine.internal.cuda;

import dev.bulkhead.ffi.CudaContext;
import dev.bulkhead.ffi.CudaDriver;
import dev.bulkhead.ffi.CudaMemory;
import dev.bulkhead.ffi.DevicePtr;
import dev.bulkhead.ffi.Handles.Event;
import dev.bulkhead.ffi.Handles.Stream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;

/**
 * The sampled ids of steps launched without waiting ({@link dev.bulkhead.engine.internal.runner.PipelinedSampler}) on their
 * way back to the host: each launched step copies its ids into one of two pinned buffers, used in turn, and records
 * an event after the copy; awaiting a step waits for its event only, so the step launched after it keeps running.
 *
 * <p>NOTE: two buffers because the device may finish step N+1, copy included, before the host reads step N's ids;
 * with at most two steps pending and awaited in order, a buffer is reused only after its step was awaited.
 */
final class LaunchedSteps {

    static final int MAX_PENDING = 2;

    private record Step(int buffer, int rows) {
    }

    private final MemorySegment[] pinned = new MemorySegment[MAX_PENDING]; // (rows) ints each
    private final Event[] copied = new Event[MAX_PENDING];
    private final ArrayDeque<Step> pending = new ArrayDeque<>(MAX_PENDING);
    private int next;
    private int[] ids = new int[0];
    private long overlapped;

    LaunchedSteps(CudaContext ctx, int maxRows) {
        for (int i = 0; i < MAX_PENDING; i++) {
            pinned[i] = ctx.pinned(4L * maxRows);
            copied[i] = ctx.createEvent();
        }
    }

    /** Fails before anything is queued when a step cannot be launched now. */
    void checkRoom() {
        if (pending.size() == MAX_PENDING) {
            throw new IllegalStateException(MAX_PENDING + " launched steps are pending; await one first");
        }
    }

    /** Queues the copy of a launched step's {@code rows} ids from {@code idsDev} and remembers the step. */
    void queue(DevicePtr idsDev, int rows, Stream stream) {
        checkRoom();
        int b = next;
        next = (next + 1) % MAX_PENDING;
        if (rows > 0) {
            CudaMemory.copyDtoHAsync(pinned[b], idsDev, 4L * rows, stream);
        }
        // NOTE: recorded even for a step that samples nothing (prefill chunks only): awaiting it waits for the step.
        CudaDriver.eventRecord(copied[b], stream);
        if (!pending.isEmpty()) {
            overlapped++;
        }
        pending.addLast(new Step(b, rows));
    }

    /** Waits for the oldest launched step's ids and returns them (this object's array, reused). */
    int[] awaitOldest() {
        Step s = pending.pollFirst();
        if (s == null) {
            throw new IllegalStateException("no launched step is pending");
        }
        CudaDriver.eventSynchronize(copied[s.buffer()]);
        if (ids.length < s.rows()) {
            ids = new int[s.rows()];
        }
        MemorySegment.copy(pinned[s.buffer()], ValueLayout.JAVA_INT, 0, ids, 0, s.rows());
        return ids;
    }

    int pending() {
        return pending.size();
    }

    long overlapped() {
        return overlapped;
    }
}
