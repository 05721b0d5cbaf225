package dev.bulkhead.cuemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.ffi.CudaException;
import dev.bulkhead.ffi.DevicePtr;
import dev.bulkhead.ffi.Handles.Dim3;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The emulator's tensor-core fragment API (nvcuda::wmma): exact products, warp-wide mma_sync, alignment. */
@ExtendWith(EmulatorSeedReporter.class)
class WmmaTest {

    private static final String WMMA = "bkemu_probe_wmma(ptr d, ptr a, ptr b, i32 skip_lane, i32 offset)";

    /** Small integers, exact in bf16 and in every fp32 sum of 16 products. */
    private static DevicePtr bf16Matrix(Probes p, int seed, float[] values) {
        MemorySegment h = p.ctx.arena().allocate(2L * (256 + 16), 32);
        for (int i = 0; i < 256; i++) {
            values[i] = ((i * 7 + seed) % 9) - 4;
            h.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) (Float.floatToRawIntBits(values[i]) >>> 16));
        }
        return DeviceArrays.upload(p.ctx, h);
    }

    @Test
    void aSixteenCubedProductIsExactAndFollowsTheDeclaredLayouts() {
        try (Probes p = new Probes()) {
            float[] a = new float[256];
            float[] b = new float[256];
            DevicePtr da = bf16Matrix(p, 1, a);
            DevicePtr db = bf16Matrix(p, 5, b);
            DevicePtr d = p.alloc(4 * 256);
            p.launch(WMMA, Dim3.of(1), Dim3.of(32), 0, d, da, db, -1, 0);
            float[] got = p.readFloats(d, 256);
            for (int m = 0; m < 16; m++) {
                for (int n = 0; n < 16; n++) {
                    float expected = 1f; // the filled accumulator
                    for (int k = 0; k < 16; k++) {
                        expected += a[m * 16 + k] * b[n * 16 + k]; // b is column-major: (k, n) at n * 16 + k
                    }
                    assertThat(got[m * 16 + n]).as("d[%d][%d]", m, n).isEqualTo(expected);
                }
            }
        }
    }

    @Test
    void mmaSyncNeedsEveryLaneOfTheWarp() {
        try (Probes p = new Probes()) {
            DevicePtr da = bf16Matrix(p, 1, new float[256]);
            DevicePtr d = p.alloc(4 * 256);
            p.launch(WMMA, Dim3.of(1), Dim3.of(32), 0, d, da, da, 11, 0);
            assertThatThrownBy(p::sync).isInstanceOf(CudaException.class).hasMessageContaining("CUDA_ERROR_LAUNCH_FAILED")
                    .hasMessageContaining("wmma").hasMessageContaining("exited while lanes");
        }
    }

    @Test
    void aPointerNotThirtyTwoByteAlignedIsAMisalignedAddress() {
        try (Probes p = new Probes()) {
            DevicePtr da = bf16Matrix(p, 1, new float[256]);
            DevicePtr d = p.alloc(4 * 256);
            p.launch(WMMA, Dim3.of(1), Dim3.of(32), 0, d, da, da, -1, 8);
            assertThatThrownBy(p::sync).isInstanceOfSatisfying(CudaException.class, e -> {
                assertThat(e.codeName()).isEqualTo("CUDA_ERROR_MISALIGNED_ADDRESS");
                assertThat(e.getMessage()).contains("wmma::load_matrix_sync").contains("32-byte aligned");
            });
        }
    }
}
