package dev.bulkhead.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The fatbin in the jar holds every indexed kernel as SASS for sm_80 and sm_90a and as compute_90 PTX
 * (read from the ELF symbol tables and the PTX text, no cuobjdump needed). Skipped with the reason when the
 * build had no nvcc; fails if nvcc was found but no fatbin came out.
 */
class FatbinContentsTest {

    private static final List<String> NAMES = Arrays.stream(Kernel.values()).map(Kernel::symbol).toList();

    private static void assumeBuilt() {
        boolean nvcc = Boolean.getBoolean("bulkhead.nvcc.found");
        if (nvcc) {
            assertThat(KernelImage.isPresent()).as("nvcc was found at build time but " + KernelImage.RESOURCE
                    + " is missing").isTrue();
        }
        Assumptions.assumeTrue(KernelImage.isPresent(), "built without nvcc (or -Dbulkhead.skipCuda=true): no fatbin"
                + " to inspect");
    }

    @Test
    void everyKernelIsInBothCubinsAndThePtx() {
        assumeBuilt();
        byte[] fatbin = KernelImage.load();
        List<FatbinInspector.Cubin> cubins = FatbinInspector.cubins(fatbin);
        assertThat(cubins).as("one cubin each for sm_80 and sm_90a").hasSize(2);
        for (FatbinInspector.Cubin c : cubins) {
            assertThat(c.functions()).containsAll(NAMES);
        }
        List<FatbinInspector.Ptx> ptx = FatbinInspector.ptx(fatbin);
        assertThat(ptx).extracting(FatbinInspector.Ptx::target).containsExactly("sm_90");
        assertThat(ptx.getFirst().entries()).containsExactlyInAnyOrderElementsOf(NAMES);
    }

    @Test
    void withoutTheResourceLoadingSaysBuiltWithoutKernels() {
        Assumptions.assumeFalse(KernelImage.isPresent(), "this build has the fatbin");
        assertThatThrownBy(KernelImage::load).isInstanceOf(KernelsNotBuiltException.class)
                .hasMessageStartingWith("built without CUDA kernels");
    }
}
