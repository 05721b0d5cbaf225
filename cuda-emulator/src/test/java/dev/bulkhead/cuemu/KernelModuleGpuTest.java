package dev.bulkhead.cuemu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.ffi.CudaContext;
import dev.bulkhead.kernels.Kernel;
import dev.bulkhead.kernels.KernelModule;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The module loads, every indexed kernel resolves and its signature matches the kernel's C parameters. */
@Tag("gpu")
class KernelModuleGpuTest {

    @Test
    void loadsTheKernelsAndResolvesEveryOneWithItsSignatureChecked() {
        GpuTarget.require();
        try (CudaContext ctx = CudaContext.open(0)) {
            KernelModule m = KernelModule.load(ctx);
            for (Kernel k : Kernel.values()) {
                assertThat(m.function(k).handle().address()).as(k.symbol()).isNotZero();
                KernelModule.verify(m.function(k), k.signature());
            }
            m.allowSharedMemory(Kernel.PAGED_ATTENTION_PREFILL, Kernel.prefillSharedBytes(256));
        }
    }
}
