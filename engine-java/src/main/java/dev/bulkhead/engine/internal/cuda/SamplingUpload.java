package dev.bulkhead.engine.internal.cuda;

import dev.bulkhead.engine.internal.runner.SamplingRows;
import dev.bulkhead.ffi.CudaContext;
import dev.bulkhead.ffi.CudaDriver;
import dev.bulkhead.ffi.CudaMemory;
import dev.bulkhead.ffi.DeviceBuffer;
import dev.bulkhead.ffi.DevicePtr;
import dev.bulkhead.ffi.Handles.Event;
import dev.bulkhead.ffi.Handles.Stream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The device rows of one LM-head pass, packed for {@code bk_sample_rows} into one pinned buffer and copied to
 * the device in one go: per row its place in the pass, parameters, seed and step; then the penalty entries,
 * the counts right after this pass's ids so the copy holds only what is used. Sized once, for
 * {@code rows} rows and {@code penalties} entries.
 *
 * <p>Two pinned buffers are packed in turn: a step launched without waiting (asynchronous scheduling) may not
 * have run its upload when the next step packs, so a buffer is refilled only once the event recorded after its
 * last upload says that copy is done.
 */
final class SamplingUpload {

    private final int capacity;
    private final int penaltyCapacity;
    private final MemorySegment[] hosts = new MemorySegment[2]; // pinned, used in turn
    private final Event[] uploaded = new Event[2];              // recorded after each buffer's upload
    private final DeviceBuffer device;  // same layout
    private MemorySegment host;         // the buffer of the last pack
    private int current;
    // Byte offsets of the fixed sections.
    private final long rowsAt;
    private final long temperatureAt;
    private final long topKAt;
    private final long topPAt;
    private final long minPAt;
    private final long repetitionAt;
    private final long frequencyAt;
    private final long presenceAt;
    private final long startAt;
    private final long seedsAt;
    private final long stepsAt;
    private final long idsAt;
    private int used;      // device rows of the last pack
    private int entries;   // penalty entries of the last pack

    SamplingUpload(CudaContext ctx, int rows, int penalties) {
        this.capacity = rows;
        this.penaltyCapacity = penalties;
        long at = 0;
        rowsAt = at;
        at += 4L * rows;
        temperatureAt = at;
        at += 4L * rows;
        topKAt = at;
        at += 4L * rows;
        topPAt = at;
        at += 4L * rows;
        minPAt = at;
        at += 4L * rows;
        repetitionAt = at;
        at += 4L * rows;
        frequencyAt = at;
        at += 4L * rows;
        presenceAt = at;
        at += 4L * rows;
        startAt = at;
        at += 4L * (rows + 1);
        at = (at + 7) / 8 * 8;
        seedsAt = at;
        at += 8L * rows;
        stepsAt = at;
        at += 8L * rows;
        idsAt = at;
        at += 8L * penalties;
        for (int i = 0; i < 2; i++) {
            hosts[i] = ctx.pinned(at);
            uploaded[i] = ctx.createEvent();
        }
        this.host = hosts[0];
        this.device = ctx.alloc(at);
    }

    int penaltyCapacity() {
        return penaltyCapacity;
    }

    /**
     * Packs the device rows among logit rows [first, first + n) of {@code s}; returns how many there are. Row k
     * of the pack is pass row {@code s}'s index minus {@code first}.
     */
    int pack(SamplingRows s, int first, int n) {
        current ^= 1;
        CudaDriver.eventSynchronize(uploaded[current]);
        host = hosts[current];
        used = 0;
        entries = 0;
        for (int i = first; i < first + n; i++) {
            if (!s.onDevice(i)) {
                continue;
            }
            int k = used++;
            host.setAtIndex(ValueLayout.JAVA_INT, rowsAt / 4 + k, i - first);
            host.setAtIndex(ValueLayout.JAVA_FLOAT, temperatureAt / 4 + k, s.temperature(i));
            host.setAtIndex(ValueLayout.JAVA_INT, topKAt / 4 + k, s.topK(i));
            host.setAtIndex(ValueLayout.JAVA_FLOAT, topPAt / 4 + k, s.topP(i));
            host.setAtIndex(ValueLayout.JAVA_FLOAT, minPAt / 4 + k, s.minP(i));
            host.setAtIndex(ValueLayout.JAVA_FLOAT, repetitionAt / 4 + k, s.repetition(i));
            host.setAtIndex(ValueLayout.JAVA_FLOAT, frequencyAt / 4 + k, s.frequency(i));
            host.setAtIndex(ValueLayout.JAVA_FLOAT, presenceAt / 4 + k, s.presence(i));
            host.setAtIndex(ValueLayout.JAVA_LONG, seedsAt / 8 + k, s.seed(i));
            host.setAtIndex(ValueLayout.JAVA_LONG, stepsAt / 8 + k, s.step(i));
            host.setAtIndex(ValueLayout.JAVA_INT, startAt / 4 + k, entries);
            for (int e = s.penaltyStart(i); e < s.penaltyStart(i + 1); e++) {
                if (entries == penaltyCapacity) {
                    throw new IllegalArgumentException("a step's penalties list " + (entries + 1) + " tokens, more than the "
                            + penaltyCapacity + " the device sampler holds");
                }
                host.setAtIndex(ValueLayout.JAVA_INT, idsAt / 4 + entries++, s.penaltyId(e));
            }
        }
        host.setAtIndex(ValueLayout.JAVA_INT, startAt / 4 + used, entries);
        // NOTE: the counts follow this pack's ids, so one copy of [0, countsAt + 4 entries) is all it takes.
        int e = 0;
        for (int i = first; i < first + n; i++) {
            if (s.onDevice(i)) {
                for (int p = s.penaltyStart(i); p < s.penaltyStart(i + 1); p++) {
                    host.setAtIndex(ValueLayout.JAVA_INT, countsAt() / 4 + e++, s.penaltyCount(p));
                }
            }
        }
        if (used > capacity) {
            throw new IllegalStateException(used + " device rows in one pass, more than " + capacity);
        }
        return used;
    }

    private long countsAt() {
        return idsAt + 4L * entries;
    }

    /** Queues the copy of the last pack to the device on {@code stream}. */
    void upload(Stream stream) {
        CudaMemory.copyHtoDAsync(device.ptr(), host, countsAt() + 4L * entries, stream);
        CudaDriver.eventRecord(uploaded[current], stream);
    }

    /** Queues {@code bk_sample_rows} over the last pack, reading {@code logits} and writing ids to {@code out}. */
    void sample(CudaOps ops, DevicePtr out, DevicePtr logits, int vocab) {
        DevicePtr d = device.ptr();
        ops.sampleRows(out, logits, d.plus(rowsAt), d.plus(temperatureAt), d.plus(topKAt), d.plus(topPAt), d.plus(minPAt),
                d.plus(repetitionAt), d.plus(frequencyAt), d.plus(presenceAt), d.plus(startAt), d.plus(idsAt),
                d.plus(countsAt()), d.plus(seedsAt), d.plus(stepsAt), used, vocab);
    }

    /** Pass row of pack row {@code k}. */
    int passRow(int k) {
        return host.getAtIndex(ValueLayout.JAVA_INT, rowsAt / 4 + k);
    }
}
