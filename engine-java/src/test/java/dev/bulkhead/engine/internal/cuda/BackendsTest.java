package dev.bulkhead.engine.internal.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.cuemu.CudaEmulator;
import dev.bulkhead.cuemu.GpuTarget;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.ffi.CudaAvailability;
import org.junit.jupiter.api.Test;

/** --device auto|cpu|cuda|cuda-emulator: what is chosen, and the messages when CUDA is missing. */
class BackendsTest {

    private static final CudaAvailability MISSING =
            CudaAvailability.unavailable("libcuda.so.1 not found (searched: x); install the NVIDIA driver or run with --device cpu");

    @Test
    void cpuIsAlwaysCpu() {
        Backends.Choice c = Backends.choose("cpu", () -> {
            throw new AssertionError("cpu must not probe CUDA");
        }, false);
        assertThat(c.name()).isEqualTo("cpu");
        assertThat(c.factory()).isSameAs(ModelRunnerFactory.CPU);
    }

    @Test
    void autoFallsBackToCpuWithTheReason() {
        Backends.Choice c = Backends.choose("auto", () -> MISSING, false);
        assertThat(c.name()).isEqualTo("cpu");
        assertThat(c.reason()).isEqualTo(MISSING.reason());
    }

    @Test
    void cudaFailsWithTheProbeMessage() {
        assertThatThrownBy(() -> Backends.choose("cuda", () -> MISSING, false)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("--device cuda requested").hasMessageContaining("libcuda.so.1 not found");
    }

    @Test
    void autoAndCudaTakeCudaWhenAvailable() {
        CudaAvailability ok = CudaAvailability.available("1 CUDA device(s)");
        assertThat(Backends.choose("auto", () -> ok, false).name()).isEqualTo("cuda");
        assertThat(Backends.choose("CUDA:1", () -> ok, false).name()).isEqualTo("cuda");
    }

    @Test
    void unknownDevicesAreRejected() {
        assertThatThrownBy(() -> Backends.choose("tpu", () -> MISSING, false)).hasMessageContaining("unknown device 'tpu'");
    }

    @Test
    void autoNeverPicksTheEmulatorAndCudaIsRefusedOnceTheProcessIsBoundToIt() {
        CudaAvailability ok = CudaAvailability.available("1 CUDA device(s), device 0: " + CudaEmulator.DEVICE_NAME);
        assertThat(Backends.choose("auto", () -> ok, true).name()).isEqualTo("cpu");
        assertThatThrownBy(() -> Backends.choose("cuda", () -> ok, true)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("bound to the CUDA emulator");
    }

    @Test
    void cudaEmulatorSelectsTheEmulatorBackendByNameOnly() {
        GpuTarget.requireEmulator();
        Backends.Choice c = Backends.choose("cuda-emulator");
        assertThat(c.name()).isEqualTo("cuda-emulator");
        assertThat(c.reason()).contains(CudaEmulator.DEVICE_NAME);
        assertThat(Backends.choose("auto").name()).isEqualTo("cpu");
    }

    @Test
    void theRealProbeOnThisMachineNeverThrows() {
        assertThat(Backends.probe().reason()).isNotBlank();
        assertThat(Backends.choose("auto").name()).isIn("cpu", "cuda");
    }
}
