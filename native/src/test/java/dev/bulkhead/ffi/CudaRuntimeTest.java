package dev.bulkhead.ffi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Assumptions;
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
}
