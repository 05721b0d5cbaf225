package dev.bulkhead.cuemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.ffi.CudaException;
import dev.bulkhead.ffi.CudaLaunchException;
import dev.bulkhead.ffi.CudaMemory;
import dev.bulkhead.ffi.CudaOutOfMemoryException;
import dev.bulkhead.ffi.DevicePtr;
import dev.bulkhead.ffi.Handles.Dim3;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Faults on demand for the reliability work: a sticky illegal address at the N-th launch, an OOM at the N-th alloc. */
@ExtendWith(EmulatorSeedReporter.class)
class FaultInjectionTest {

    private static final String COPY = "bkemu_probe_copy(ptr out, ptr in, i32 n)";

    @AfterEach
    void clear() {
        if (CudaEmulator.isActive()) {
            CudaEmulator.configure("faults", "");
        }
    }

    @Test
    void theNthLaunchOfAKernelFaultsWithAStickyIllegalAddress() {
        try (Probes p = new Probes()) {
            DevicePtr a = p.floats(1f, 2f);
            DevicePtr b = p.alloc(8);
            CudaEmulator.configure("faults", "launch:bkemu_probe_copy:2");
            long injected = CudaEmulator.stats().faultsInjected();
            p.launch(COPY, Dim3.of(1), Dim3.of(2), 0, b, a, 2);
            p.sync();
            p.launch(COPY, Dim3.of(1), Dim3.of(2), 0, b, a, 2);
            assertThatThrownBy(p::sync).isInstanceOfSatisfying(CudaLaunchException.class, e -> {
                assertThat(e.code()).isEqualTo(700);
                assertThat(e.getMessage()).contains("Injected fault: launch 2 of bkemu_probe_copy");
            });
            assertThat(CudaEmulator.stats().faultsInjected()).isEqualTo(injected + 1);
            assertThatThrownBy(() -> CudaMemory.alloc(8)).isInstanceOfSatisfying(CudaException.class,
                    e -> assertThat(e.code()).as("sticky").isEqualTo(700));
        }
        try (Probes fresh = new Probes()) {
            DevicePtr a = fresh.floats(4f);
            DevicePtr b = fresh.alloc(4);
            fresh.launch(COPY, Dim3.of(1), Dim3.of(1), 0, b, a, 1);
            assertThat(fresh.readFloats(b, 1)).containsExactly(4f);
        }
    }

    @Test
    void theNthAllocationFailsWithOutOfMemoryWithoutPoisoningTheContext() {
        try (Probes _ = new Probes()) {
            CudaEmulator.configure("faults", "alloc:2");
            DevicePtr first = CudaMemory.alloc(64);
            assertThatThrownBy(() -> CudaMemory.alloc(64)).isInstanceOf(CudaOutOfMemoryException.class);
            DevicePtr third = CudaMemory.alloc(64);
            assertThat(third.address()).isNotEqualTo(first.address());
            CudaMemory.free(first);
            CudaMemory.free(third);
        }
    }

    @Test
    void anAllocationLargerThanTheDeviceIsOutOfMemory() {
        try (Probes _ = new Probes()) {
            assertThatThrownBy(() -> CudaMemory.alloc(1L << 50)).isInstanceOf(CudaOutOfMemoryException.class)
                    .hasMessageContaining("cuMemAlloc_v2");
        }
    }

    @Test
    void aBadFaultSpecIsRejected() {
        GpuTarget.requireEmulator();
        assertThatThrownBy(() -> CudaEmulator.configure("faults", "launch:x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> CudaEmulator.configure("memory", "1G")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("before the first CUDA call");
    }
}
