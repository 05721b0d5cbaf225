package dev.bulkhead.cuemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.ffi.CudaException;
import dev.bulkhead.ffi.CudaLaunchException;
import dev.bulkhead.ffi.CudaMemory;
import dev.bulkhead.ffi.DevicePtr;
import dev.bulkhead.ffi.Handles.Dim3;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** memcheck: every access of a kernel is checked against live allocations, shared memory and its own stack. */
@ExtendWith(EmulatorSeedReporter.class)
class MemoryCheckTest {

    private static final String WRITE_PAST = "bkemu_probe_write_past(ptr out, i32 n)";
    private static final String COPY = "bkemu_probe_copy(ptr out, ptr in, i32 n)";

    @Test
    void aWritePastTheEndOfAnAllocationIsReportedWithKernelThreadAndAddress() {
        try (Probes p = new Probes()) {
            DevicePtr out = p.alloc(4 * 10);
            p.launch(WRITE_PAST, Dim3.of(1), Dim3.of(32), 0, out, 10);
            String address = "0x" + Long.toHexString(out.address() + 40);
            assertThatThrownBy(p::sync).isInstanceOfSatisfying(CudaLaunchException.class, e -> {
                assertThat(e.codeName()).isEqualTo("CUDA_ERROR_ILLEGAL_ADDRESS");
                assertThat(e.getMessage()).contains("Invalid __global__ write of size 4 bytes at " + address,
                        "thread (10,0,0) block (0,0,0)", "4 byte(s) past the end of allocation",
                        "of 40 bytes", "kernel bkemu_probe_write_past");
            });
        }
    }

    @Test
    void theSameKernelWithinBoundsRunsClean() {
        try (Probes p = new Probes()) {
            DevicePtr out = p.alloc(4 * 11);
            p.launch(WRITE_PAST, Dim3.of(1), Dim3.of(32), 0, out, 10);
            float[] got = p.readFloats(out, 11);
            for (int i = 0; i <= 10; i++) {
                assertThat(got[i]).isEqualTo(i);
            }
        }
    }

    @Test
    void aReadThroughAFreedPointerIsAUseAfterFree() {
        try (Probes p = new Probes()) {
            DevicePtr in = CudaMemory.alloc(64);
            DevicePtr out = p.alloc(64);
            CudaMemory.free(in);
            p.launch(COPY, Dim3.of(1), Dim3.of(16), 0, out, in, 16);
            assertThatThrownBy(p::sync).isInstanceOf(CudaLaunchException.class)
                    .hasMessageContaining("Invalid __global__ read of size 4")
                    .hasMessageContaining("use after free");
        }
    }

    @Test
    void aHostPointerThatIsNotPageLockedIsNotDeviceMemory() {
        try (Probes p = new Probes(); java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment host = arena.allocate(64);
            DevicePtr out = p.alloc(64);
            p.launch(COPY, Dim3.of(1), Dim3.of(16), 0, out, new DevicePtr(host.address()), 16);
            assertThatThrownBy(p::sync).isInstanceOf(CudaLaunchException.class)
                    .hasMessageContaining("is not in device memory");
        }
    }

    @Test
    void pageLockedHostMemoryIsReadableByKernelsAsOnAUnifiedAddressingGpu() {
        try (Probes p = new Probes()) {
            MemorySegment pinned = p.ctx.pinned(64);
            for (int i = 0; i < 16; i++) {
                pinned.setAtIndex(ValueLayout.JAVA_FLOAT, i, i * 0.5f);
            }
            DevicePtr out = p.alloc(64);
            p.launch(COPY, Dim3.of(1), Dim3.of(16), 0, out, new DevicePtr(pinned.address()), 16);
            assertThat(p.readFloats(out, 16)[15]).isEqualTo(7.5f);
        }
    }

    @Test
    void freshDeviceMemoryIsPoisonedNotZeroed() {
        try (Probes p = new Probes()) {
            DevicePtr buf = p.alloc(16);
            assertThat(p.readInts(buf, 4)).containsOnly(-1);
            assertThat(Float.isNaN(p.readFloats(buf, 1)[0])).isTrue();
        }
    }

    @Test
    void dynamicSharedMemoryIsBoundedByTheLaunchsSize() {
        try (Probes p = new Probes()) {
            DevicePtr out = p.alloc(4);
            String kernel = "bkemu_probe_dynamic_shared(ptr out, i32 count)";
            p.launch(kernel, Dim3.of(1), Dim3.of(128), 4 * 1000, out, 1000);
            assertThat(p.readFloats(out, 1)[0]).isEqualTo(1000f * 999f / 2f);
            p.launch(kernel, Dim3.of(1), Dim3.of(128), 4 * 999, out, 1000);
            assertThatThrownBy(p::sync).isInstanceOf(CudaLaunchException.class)
                    .hasMessageContaining("Invalid __shared__ write of size 4")
                    .hasMessageContaining("past the launch's 3996 bytes of dynamic shared memory");
        }
    }

    @Test
    void theStickyErrorMakesEveryLaterCallFailUntilTheContextIsMadeAnew() {
        try (Probes p = new Probes()) {
            DevicePtr out = p.alloc(4 * 10);
            p.launch(WRITE_PAST, Dim3.of(1), Dim3.of(32), 0, out, 10);
            assertThatThrownBy(p::sync).isInstanceOf(CudaLaunchException.class);
            assertThatThrownBy(() -> CudaMemory.alloc(16)).isInstanceOfSatisfying(CudaException.class,
                    e -> assertThat(e.code()).isEqualTo(700));
        }
        try (Probes fresh = new Probes()) {
            assertThat(fresh.readInts(fresh.alloc(16), 4)).hasSize(4);
        }
    }
}
