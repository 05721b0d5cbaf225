package dev.bulkhead.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.ffi.CudaAvailability;
import dev.bulkhead.ffi.CudaContext;
import dev.bulkhead.ffi.CudaRuntime;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** On a GPU: the driver accepts the fatbin and finds every indexed kernel in it. */
@Tag("gpu")
class KernelModuleGpuTest {

    @Test
    void loadsTheFatbinAndResolvesEveryKernel() {
        CudaAvailability a = CudaRuntime.probe();
        Assumptions.assumeTrue(a.available(), a.reason());
        Assumptions.assumeTrue(KernelImage.isPresent(), "built without nvcc");
        try (CudaContext ctx = CudaContext.open(0)) {
            KernelModule m = KernelModule.load(ctx);
            for (Kernel k : Kernel.values()) {
                assertThat(m.function(k).handle().address()).as(k.symbol()).isNotZero();
            }
            m.allowSharedMemory(Kernel.PAGED_ATTENTION_PREFILL, Kernel.prefillSharedBytes(256));
        }
    }
}
