package dev.bulkhead.cuemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.ffi.CudaDriver;
import dev.bulkhead.ffi.CudaException;
import dev.bulkhead.ffi.CudaNotFoundException;
import dev.bulkhead.ffi.DevicePtr;
import dev.bulkhead.ffi.Handles.Dim3;
import dev.bulkhead.ffi.Handles.Function;
import dev.bulkhead.ffi.KernelArgs;
import dev.bulkhead.ffi.KernelSignature;
import dev.bulkhead.kernels.KernelModule;
import dev.bulkhead.kernels.KernelSignatureException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** What cuLaunchKernel and the module refuse, with the H100's limits and the driver's codes. */
@ExtendWith(EmulatorSeedReporter.class)
class LaunchChecksTest {

    private static final String DYNAMIC = "bkemu_probe_dynamic_shared(ptr out, i32 count)";

    private static int launchCode(Probes p, Dim3 grid, Dim3 block, int shared) {
        KernelArgs a = p.args("bkemu_probe_nothing()");
        try {
            CudaDriver.launch(p.function("bkemu_probe_nothing"), grid, block, shared, p.stream, a);
            return 0;
        } catch (CudaException e) {
            return e.code();
        }
    }

    @Test
    void launchesPastTheH100sLimitsAreInvalidValues() {
        try (Probes p = new Probes()) {
            assertThat(launchCode(p, Dim3.of(1), Dim3.of(1024), 0)).isZero();
            assertThat(launchCode(p, Dim3.of(1), Dim3.of(1025), 0)).isEqualTo(1);
            assertThat(launchCode(p, Dim3.of(1), new Dim3(32, 32, 2), 0)).isEqualTo(1);
            assertThat(launchCode(p, Dim3.of(1), new Dim3(1, 1, 65), 0)).isEqualTo(1);
            assertThat(launchCode(p, new Dim3(1, 65536, 1), Dim3.of(32), 0)).isEqualTo(1);
        }
    }

    @Test
    void dynamicSharedMemoryPast48KiBNeedsTheOptInUpTo227KiB() {
        try (Probes p = new Probes()) {
            DevicePtr out = p.alloc(4);
            int count = 16 * 1024; // 64 KiB of floats
            assertThatThrownBy(() -> p.launch(DYNAMIC, Dim3.of(1), Dim3.of(256), 4 * count, out, count))
                    .isInstanceOfSatisfying(CudaException.class, e -> assertThat(e.codeName()).isEqualTo("CUDA_ERROR_INVALID_VALUE"));
            Function f = p.function("bkemu_probe_dynamic_shared");
            CudaDriver.functionSetAttribute(f, CudaDriver.FUNC_ATTR_MAX_DYNAMIC_SHARED_SIZE_BYTES, 4 * count);
            p.launch(DYNAMIC, Dim3.of(1), Dim3.of(256), 4 * count, out, count);
            float expected = 0f;
            for (int i = 0; i < count; i++) {
                expected += i; // NOTE: the kernel's own order of float additions
            }
            assertThat(p.readFloats(out, 1)[0]).isEqualTo(expected);
            assertThatThrownBy(() -> CudaDriver.functionSetAttribute(f, CudaDriver.FUNC_ATTR_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                    228 * 1024)).isInstanceOf(CudaException.class).hasMessageContaining("CUDA_ERROR_INVALID_VALUE");
        }
    }

    @Test
    void anUnknownKernelIsNotFound() {
        try (Probes p = new Probes()) {
            assertThatThrownBy(() -> p.function("bkemu_probe_no_such_kernel")).isInstanceOf(CudaNotFoundException.class)
                    .hasMessageContaining("CUDA_ERROR_NOT_FOUND").hasMessageContaining("bkemu_probe_no_such_kernel");
        }
    }

    @Test
    void argumentsArriveAtTheOffsetsOfTheCSignature() {
        try (Probes p = new Probes()) {
            DevicePtr out = p.alloc(32);
            p.launch("bkemu_probe_arguments(ptr out, i32 a, i64 b, f32 c, i32 d)", Dim3.of(1), Dim3.of(1), 0, out, 7,
                    1L << 40, 1.5f, -3);
            assertThat(p.readLongs(out, 4)).containsExactly(7, 1L << 40, 1500, -3);
            Function f = p.function("bkemu_probe_arguments");
            assertThat(CudaDriver.functionParamInfo(f, 2)).hasValueSatisfying(v -> assertThat(v).containsExactly(16, 8));
            assertThat(CudaDriver.functionParamInfo(f, 5)).isEmpty();
        }
    }

    @Test
    void anIndexWhoseArgumentSizesDifferFromTheKernelIsRejectedBeforeAnyLaunch() {
        try (Probes p = new Probes()) {
            Function f = p.function("bkemu_probe_arguments");
            assertThat(KernelModule.verify(f, KernelSignature.parse("bkemu_probe_arguments(ptr out, i32 a, i64 b, f32 c, i32 d)"))).isTrue();
            assertThatThrownBy(() -> KernelModule.verify(f,
                    KernelSignature.parse("bkemu_probe_arguments(ptr out, i64 a, i64 b, f32 c, i32 d)")))
                    .isInstanceOf(KernelSignatureException.class)
                    .hasMessageContaining("parameter 1 (a) is I64 (8 bytes)").hasMessageContaining("takes 4 bytes at offset 8");
            assertThatThrownBy(() -> KernelModule.verify(f, KernelSignature.parse("bkemu_probe_arguments(ptr out, i32 a)")))
                    .isInstanceOf(KernelSignatureException.class).hasMessageContaining("more than the 2 parameters");
            assertThatThrownBy(() -> KernelModule.verify(f,
                    KernelSignature.parse("bkemu_probe_arguments(ptr out, i32 a, i64 b, f32 c, i32 d, i32 e)")))
                    .isInstanceOf(KernelSignatureException.class).hasMessageContaining("takes 5 parameters");
        }
    }

    @Test
    void theDeviceSaysItIsAnEmulatorWithAnH100sShape() {
        try (Probes p = new Probes()) {
            assertThat(p.ctx.deviceName()).isEqualTo(CudaEmulator.DEVICE_NAME).contains("not a GPU");
            assertThat(p.ctx.computeCapability()).isEqualTo(90);
            assertThat(CudaDriver.deviceAttribute(CudaDriver.device(0), CudaDriver.ATTR_MULTIPROCESSOR_COUNT)).isEqualTo(132);
            assertThat(CudaDriver.driverVersion()).isEqualTo(12040);
        }
    }
}
