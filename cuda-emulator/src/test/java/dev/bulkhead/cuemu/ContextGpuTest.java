package dev.bulkhead.cuemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.ffi.CudaContext;
import dev.bulkhead.ffi.CudaDriver;
import dev.bulkhead.ffi.CudaException;
import dev.bulkhead.ffi.CudaMemory;
import dev.bulkhead.ffi.DeviceBuffer;
import dev.bulkhead.ffi.Handles;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** A context allocates, fills, copies, times and frees through the FFM bindings; closing it returns the memory. */
@Tag("gpu")
class ContextGpuTest {

    @Test
    void theContextAllocatesCopiesAndFreesEverything() {
        GpuTarget.require();
        long freeBefore;
        try (CudaContext ctx = CudaContext.open(0)) {
            CudaMemory.Info before = ctx.memoryInfo();
            freeBefore = before.free();
            DeviceBuffer buf = ctx.alloc(1 << 20);
            assertThat(ctx.memoryInfo().free()).isLessThanOrEqualTo(before.free() - (1 << 20));
            MemorySegment host = ctx.pinned(1 << 20);
            CudaMemory.setD32(buf.ptr(), 0x3f800000, (1 << 20) / 4);
            CudaMemory.copyDtoH(host, buf.ptr(), 1 << 20);
            assertThat(host.get(ValueLayout.JAVA_FLOAT, 4096)).isEqualTo(1.0f);
            assertThat(ctx.memoryInfo().total()).isEqualTo(before.total());
            Handles.Stream s = ctx.createStream();
            Handles.Event e0 = ctx.createEvent();
            Handles.Event e1 = ctx.createEvent();
            CudaDriver.eventRecord(e0, s);
            CudaMemory.copyHtoDAsync(buf.ptr(), host, 1 << 20, s);
            CudaDriver.eventRecord(e1, s);
            CudaDriver.eventSynchronize(e1);
            assertThat(CudaDriver.eventElapsedMillis(e0, e1)).isGreaterThanOrEqualTo(0f);
            assertThatThrownBy(() -> CudaMemory.alloc(Long.MAX_VALUE / 2)).isInstanceOf(CudaException.class);
        }
        try (CudaContext again = CudaContext.open(0)) {
            assertThat(again.memoryInfo().free()).as("closing the context freed its memory").isGreaterThanOrEqualTo(freeBefore);
        }
    }
}
