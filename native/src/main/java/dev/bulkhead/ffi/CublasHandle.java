package dev.bulkhead.ffi;

import static dev.bulkhead.ffi.Downcalls.rethrow;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.bulkhead.ffi.Handles.Stream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One cuBLAS handle bound to one stream, with fp32 compute ({@code CUBLAS_COMPUTE_32F}) for bf16/fp16
 * inputs. {@link #linear} is the row-major {@code y = x W^T} of a PyTorch Linear; the raw column-major
 * entry points are there for anything else. Not thread safe (cuBLAS handles are not).
 */
public final class CublasHandle implements AutoCloseable {

    /** {@code CUBLAS_OP_N}. */
    public static final int OP_N = 0;
    /** {@code CUBLAS_OP_T}. */
    public static final int OP_T = 1;
    /** {@code CUBLAS_COMPUTE_32F}. */
    public static final int COMPUTE_32F = 68;
    /** {@code CUBLAS_GEMM_DEFAULT}. */
    public static final int GEMM_DEFAULT = -1;

    private final Arena arena;
    private final MemorySegment handle;
    private final MemorySegment one;  // host float 1.0f (alpha)
    private final MemorySegment zero; // host float 0.0f (beta)
    private final MemorySegment beta; // host float, per call
    private boolean closed;

    private CublasHandle(Arena arena, MemorySegment handle) {
        this.arena = arena;
        this.handle = handle;
        this.one = arena.allocateFrom(JAVA_FLOAT, 1.0f);
        this.zero = arena.allocateFrom(JAVA_FLOAT, 0.0f);
        this.beta = arena.allocate(JAVA_FLOAT);
    }

    /** Creates a handle in the current CUDA context and binds it to {@code stream}. */
    public static CublasHandle create(Stream stream) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment p = arena.allocate(ADDRESS);
            check("cublasCreate_v2", (int) CublasHandles.cublasCreate.invokeExact(p), "");
            CublasHandle h = new CublasHandle(arena, p.get(ADDRESS, 0));
            try {
                check("cublasSetStream_v2", (int) CublasHandles.cublasSetStream.invokeExact(h.handle, stream.handle()), "");
            } catch (RuntimeException e) {
                h.close();
                throw e;
            }
            return h;
        } catch (Throwable t) {
            if (arena.scope().isAlive()) {
                arena.close();
            }
            throw rethrow(t);
        }
    }

    /**
     * Row-major {@code y[rows, out] = x[rows, in] · w[out, in]^T + beta · y}, the layout of a PyTorch Linear
     * over a batch of rows. In cuBLAS's column-major terms that is {@code y^T = op_T(w) · x^T}.
     */
    public void linear(DevicePtr x, CudaDataType xType, DevicePtr w, CudaDataType wType, DevicePtr y,
                       CudaDataType yType, int rows, int out, int in, float betaValue) {
        MemorySegment b = betaValue == 0f ? zero : beta;
        if (betaValue != 0f) {
            beta.set(JAVA_FLOAT, 0, betaValue);
        }
        gemmEx(OP_T, OP_N, out, rows, in, one, w, wType, in, x, xType, in, b, y, yType, out);
    }

    /** {@code cublasGemmEx} (column-major), fp32 compute, default algorithm; alpha/beta are host floats. */
    public void gemmEx(int transA, int transB, int m, int n, int k, MemorySegment alpha, DevicePtr a,
                       CudaDataType aType, int lda, DevicePtr b, CudaDataType bType, int ldb, MemorySegment betaSeg,
                       DevicePtr c, CudaDataType cType, int ldc) {
        int r;
        try {
            r = (int) CublasHandles.cublasGemmEx.invokeExact(handle, transA, transB, m, n, k, alpha, a.address(),
                    aType.code(), lda, b.address(), bType.code(), ldb, betaSeg, c.address(), cType.code(), ldc,
                    COMPUTE_32F, GEMM_DEFAULT);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cublasGemmEx", r, "m=" + m + " n=" + n + " k=" + k + " " + aType + "/" + bType + "->" + cType);
    }

    /** {@code cublasGemmStridedBatchedEx} (column-major), fp32 compute; strides in elements. */
    public void gemmStridedBatchedEx(int transA, int transB, int m, int n, int k, DevicePtr a, CudaDataType aType,
                                     int lda, long strideA, DevicePtr b, CudaDataType bType, int ldb, long strideB,
                                     float betaValue, DevicePtr c, CudaDataType cType, int ldc, long strideC,
                                     int batch) {
        beta.set(JAVA_FLOAT, 0, betaValue);
        int r;
        try {
            r = (int) CublasHandles.cublasGemmStridedBatchedEx.invokeExact(handle, transA, transB, m, n, k, one,
                    a.address(), aType.code(), lda, strideA, b.address(), bType.code(), ldb, strideB, beta,
                    c.address(), cType.code(), ldc, strideC, batch, COMPUTE_32F, GEMM_DEFAULT);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cublasGemmStridedBatchedEx", r, "m=" + m + " n=" + n + " k=" + k + " batch=" + batch);
    }

    /**
     * Gives cuBLAS {@code bytes} of device memory at {@code workspace} for its kernels' scratch, so that it never
     * allocates on its own: an allocation inside a stream capture (a CUDA graph) fails the capture.
     */
    public void setWorkspace(DevicePtr workspace, long bytes) {
        int r;
        try {
            r = (int) CublasHandles.cublasSetWorkspace.invokeExact(handle, workspace.address(), bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check("cublasSetWorkspace_v2", r, bytes + " bytes");
    }

    /** Host float 1.0f, for {@link #gemmEx}'s alpha. */
    public MemorySegment one() {
        return one;
    }

    /** Host float 0.0f, for {@link #gemmEx}'s beta. */
    public MemorySegment zero() {
        return zero;
    }

    private static void check(String api, int status, String detail) {
        if (status != 0) {
            throw CublasException.of(api, status, detail);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            int r = (int) CublasHandles.cublasDestroy.invokeExact(handle);
            check("cublasDestroy_v2", r, "");
        } catch (Throwable t) {
            throw rethrow(t);
        } finally {
            arena.close();
        }
    }
}
