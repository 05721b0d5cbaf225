package dev.bulkhead.ffi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** probe() never throws; without a driver it says what is missing and how to fix it. */
class CudaRuntimeTest {

    @Test
    void probeAnswersWithAReason() {
        CudaAvailability a = CudaRuntime.probe();
        assertThat(a.reason()).isNotBlank();
        if (!a.available()) {
            assertThat(a.reason()).contains("--device cpu");
        }
    }

    @Test
    void withoutTheDriverLibraryProbeSaysNotFoundAndCallsFailClearly() {
        Assumptions.assumeFalse(DriverHandles.LIB.loaded(), "libcuda.so.1 is installed here");
        CudaAvailability a = CudaRuntime.probe();
        assertThat(a.available()).isFalse();
        assertThat(a.reason()).startsWith("libcuda.so.1 not found (searched: ")
                .endsWith("install the NVIDIA driver or run with --device cpu");
        assertThatThrownBy(CudaDriver::init).isInstanceOf(CudaUnavailableException.class)
                .hasMessageContaining("cuInit").hasMessageContaining("libcuda.so.1 not found");
    }

    @Tag("gpu")
    @Test
    void onAGpuTheContextAllocatesCopiesAndFreesEverything() {
        CudaAvailability a = CudaRuntime.probe();
        Assumptions.assumeTrue(a.available(), a.reason());
        try (CudaContext ctx = CudaContext.open(0)) {
            CudaMemory.Info before = ctx.memoryInfo();
            DeviceBuffer buf = ctx.alloc(1 << 20);
            java.lang.foreign.MemorySegment host = ctx.pinned(1 << 20);
            CudaMemory.setD32(buf.ptr(), 0x3f800000, (1 << 20) / 4);
            CudaMemory.copyDtoH(host, buf.ptr(), 1 << 20);
            assertThat(host.get(java.lang.foreign.ValueLayout.JAVA_FLOAT, 4096)).isEqualTo(1.0f);
            assertThat(ctx.memoryInfo().total()).isEqualTo(before.total());
            Handles.Stream s = ctx.createStream();
            Handles.Event e0 = ctx.createEvent();
            Handles.Event e1 = ctx.createEvent();
            CudaDriver.eventRecord(e0, s);
            CudaMemory.copyHtoDAsync(buf.ptr(), host, 1 << 20, s);
            CudaDriver.eventRecord(e1, s);
            CudaDriver.eventSynchronize(e1);
            assertThat(CudaDriver.eventElapsedMillis(e0, e1)).isGreaterThanOrEqualTo(0f);
        }
        assertThatThrownBy(() -> CudaMemory.alloc(Long.MAX_VALUE / 2)).isInstanceOf(CudaException.class);
    }
}
