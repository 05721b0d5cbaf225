package dev.bulkhead.engine.internal.cuda;

import dev.bulkhead.engine.internal.cuda.StepPlan.Section;
import dev.bulkhead.engine.internal.runner.BatchInput;
import dev.bulkhead.ffi.CudaContext;
import dev.bulkhead.ffi.CudaDriver;
import dev.bulkhead.ffi.CudaMemory;
import dev.bulkhead.ffi.DeviceBuffer;
import dev.bulkhead.ffi.DevicePtr;
import dev.bulkhead.ffi.Handles.Event;
import java.lang.foreign.MemorySegment;

/**
 * A step's indices on their way to the device: packed by {@link StepPlan} into one of two pinned buffers, used in
 * turn, and copied in one go into the device buffer every kernel of the step reads; then, for a step scheduled ahead
 * of the one before it, the tokens that take that step's sampled ids ({@code bk_feed_sampled_ids}).
 *
 * <p>NOTE: a step with no logit rows (a prefill chunk), or one launched without waiting, returns before its upload
 * has run, so a pinned buffer is refilled only once the event recorded after its last upload says that copy is done.
 */
final class StepUpload {

    private final StepPlan plan;
    private final DeviceBuffer device;                            // the StepPlan layout, read by the kernels
    private final MemorySegment[] pinned = new MemorySegment[2];  // the same layout, used in turn
    private final Event[] uploaded = new Event[2];                // recorded after each buffer's upload
    private long uploads;

    StepUpload(CudaContext ctx, StepPlan plan, long ints) {
        this.plan = plan;
        this.device = ctx.alloc(ints * 4);
        for (int i = 0; i < 2; i++) {
            pinned[i] = ctx.pinned(ints * 4);
            uploaded[i] = ctx.createEvent();
        }
    }

    StepPlan plan() {
        return plan;
    }

    /** Section {@code s} of the device copy. */
    DevicePtr at(Section s) {
        return device.at(plan.byteOffset(s));
    }

    /**
     * Packs {@code b} into the next pinned buffer (padded to {@code bucket} sequences with the full block-table
     * stride when a graph runs it; 0: as it is), queues its upload on {@code ops}' stream, then the feed of the
     * tokens {@code previousRows} names from {@code sampledIds} (the step before's ids, by logit row).
     */
    void upload(BatchInput b, int[] previousRows, int bucket, CudaOps ops, DevicePtr sampledIds) {
        int buffer = (int) (uploads++ & 1);
        CudaDriver.eventSynchronize(uploaded[buffer]);
        plan.build(b, pinned[buffer], bucket > 0);
        if (bucket > 0) {
            plan.padDecode(bucket);
        }
        int feeds = plan.feed(previousRows);
        CudaMemory.copyHtoDAsync(device.ptr(), pinned[buffer], plan.usedBytes(), ops.stream());
        CudaDriver.eventRecord(uploaded[buffer], ops.stream());
        if (feeds > 0) {
            ops.feedSampledIds(at(Section.IDS), sampledIds, at(Section.FEED), feeds);
        }
    }
}
