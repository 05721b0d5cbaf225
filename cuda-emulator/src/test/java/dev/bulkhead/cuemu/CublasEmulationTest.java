package dev.bulkhead.cuemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.ffi.CublasException;
import dev.bulkhead.ffi.CublasHandle;
import dev.bulkhead.ffi.CudaDataType;
import dev.bulkhead.ffi.CudaMemory;
import dev.bulkhead.ffi.DevicePtr;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** cublasGemmEx and cublasGemmStridedBatchedEx: column-major results, fp32 accumulation, cuBLAS's checks. */
@ExtendWith(EmulatorSeedReporter.class)
class CublasEmulationTest {

    /** bf16 bits of f, round to nearest even (values here are finite). */
    private static short bf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    private static float fromBf16(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }

    private static DevicePtr uploadBf16(Probes p, float[] v) {
        MemorySegment h = p.ctx.arena().allocate(2L * v.length, 2);
        for (int i = 0; i < v.length; i++) {
            short b = bf16(v[i]);
            h.setAtIndex(ValueLayout.JAVA_SHORT, i, b);
            v[i] = fromBf16(b);
        }
        DevicePtr d = p.alloc(h.byteSize());
        CudaMemory.copyHtoD(d, h, h.byteSize());
        return d;
    }

    @Test
    void linearIsXTimesWTransposedOnBf16InputsWithFp32Output() {
        try (Probes p = new Probes()) {
            Random r = new Random(5);
            int rows = 3, in = 37, out = 11;
            float[] x = new float[rows * in];
            float[] w = new float[out * in];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) r.nextGaussian();
            }
            DevicePtr xd = uploadBf16(p, x);
            DevicePtr wd = uploadBf16(p, w);
            DevicePtr y = p.alloc(4L * rows * out); // poisoned NaN: beta 0 must not read it
            CublasHandle blas = p.ctx.cublas(p.stream);
            blas.linear(xd, CudaDataType.BF16, wd, CudaDataType.BF16, y, CudaDataType.F32, rows, out, in, 0f);
            float[] got = p.readFloats(y, rows * out);
            for (int i = 0; i < rows; i++) {
                for (int o = 0; o < out; o++) {
                    double expected = 0;
                    for (int k = 0; k < in; k++) {
                        expected += (double) x[i * in + k] * w[o * in + k];
                    }
                    assertThat((double) got[i * out + o]).as("y[%d][%d]", i, o).isCloseTo(expected,
                            org.assertj.core.data.Offset.offset(1e-4 * (1 + Math.abs(expected))));
                }
            }
            // beta = 1 accumulates into y.
            blas.linear(xd, CudaDataType.BF16, wd, CudaDataType.BF16, y, CudaDataType.F32, rows, out, in, 1f);
            float[] twice = p.readFloats(y, rows * out);
            assertThat(twice[4]).isCloseTo(2 * got[4], org.assertj.core.data.Offset.offset(1e-4f * (1 + Math.abs(got[4]))));
        }
    }

    @Test
    void stridedBatchedMultipliesEachBatchSeparately() {
        try (Probes p = new Probes()) {
            int m = 2, n = 2, k = 2, batch = 3;
            float[] a = new float[m * k * batch];
            float[] b = new float[k * n * batch];
            for (int i = 0; i < a.length; i++) {
                a[i] = i + 1;
                b[i] = (i % 4 == 0 || i % 4 == 3) ? 1 : 0; // identity per batch
            }
            DevicePtr ad = p.floats(a);
            DevicePtr bd = p.floats(b);
            DevicePtr cd = p.alloc(4L * m * n * batch);
            CublasHandle blas = p.ctx.cublas(p.stream);
            blas.gemmStridedBatchedEx(CublasHandle.OP_N, CublasHandle.OP_N, m, n, k, ad, CudaDataType.F32, m, m * k, bd,
                    CudaDataType.F32, k, k * n, 0f, cd, CudaDataType.F32, m, m * n, batch);
            assertThat(p.readFloats(cd, m * n * batch)).containsExactly(a);
        }
    }

    @Test
    void aLeadingDimensionBelowTheRowCountIsAnInvalidValue() {
        try (Probes p = new Probes()) {
            DevicePtr a = p.alloc(64);
            CublasHandle blas = p.ctx.cublas(p.stream);
            assertThatThrownBy(() -> blas.gemmEx(CublasHandle.OP_N, CublasHandle.OP_N, 4, 2, 2, blas.one(), a,
                    CudaDataType.F32, 3, a, CudaDataType.F32, 2, blas.zero(), a, CudaDataType.F32, 4))
                    .isInstanceOf(CublasException.class).hasMessageContaining("CUBLAS_STATUS_INVALID_VALUE");
            assertThatThrownBy(() -> blas.gemmEx(CublasHandle.OP_N, CublasHandle.OP_N, 2, 2, 2, blas.one(), a,
                    CudaDataType.F16, 2, a, CudaDataType.BF16, 2, blas.zero(), a, CudaDataType.F32, 2))
                    .isInstanceOf(CublasException.class).hasMessageContaining("CUBLAS_STATUS_NOT_SUPPORTED");
        }
    }

    @Test
    void aGemmReadingPastItsMatrixFaultsLikeAKernel() {
        try (Probes p = new Probes()) {
            DevicePtr small = p.alloc(4 * 4);
            DevicePtr c = p.alloc(4 * 16);
            CublasHandle blas = p.ctx.cublas(p.stream);
            blas.gemmEx(CublasHandle.OP_N, CublasHandle.OP_N, 4, 4, 4, blas.one(), small, CudaDataType.F32, 4, small,
                    CudaDataType.F32, 4, blas.zero(), c, CudaDataType.F32, 4);
            assertThatThrownBy(p::sync).hasMessageContaining("CUDA_ERROR_ILLEGAL_ADDRESS")
                    .hasMessageContaining("cublasGemmEx: matrix A");
        }
    }
}
