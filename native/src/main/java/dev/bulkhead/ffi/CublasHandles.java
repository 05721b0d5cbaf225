package dev.bulkhead.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.invoke.MethodHandle;

/**
 * cuBLAS functions, resolved once when first used (a holder, like {@link DriverHandles}). Device pointers
 * are passed as {@code long}: the same register class as {@code const void*} on every 64-bit ABI.
 */
final class CublasHandles {

    /** NOTE: cuBLASLt is loaded first from wherever it is so that libcublas's DT_NEEDED on it resolves. */
    static final Downcalls.Library LT = CudaLibraries.cublasLt();
    static final Downcalls.Library LIB = CudaLibraries.cublas();

    static final MethodHandle cublasCreate = bind("cublasCreate_v2", ADDRESS);
    static final MethodHandle cublasDestroy = bind("cublasDestroy_v2", ADDRESS);
    static final MethodHandle cublasSetStream = bind("cublasSetStream_v2", ADDRESS, ADDRESS);
    static final MethodHandle cublasSetMathMode = bind("cublasSetMathMode", ADDRESS, JAVA_INT);
    /** (handle, workspace device pointer, bytes): cuBLAS then never allocates, as stream capture requires. */
    static final MethodHandle cublasSetWorkspace = bind("cublasSetWorkspace_v2", ADDRESS, JAVA_LONG, JAVA_LONG);
    /** (handle, transa, transb, m, n, k, alpha*, A, Atype, lda, B, Btype, ldb, beta*, C, Ctype, ldc, compute, algo). */
    static final MethodHandle cublasGemmEx = bind("cublasGemmEx", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
            JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG,
            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    /** As cublasGemmEx with a {@code long long} stride after each matrix's leading dimension and a batch count. */
    static final MethodHandle cublasGemmStridedBatchedEx = bind("cublasGemmStridedBatchedEx", ADDRESS, JAVA_INT,
            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG,
            JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT,
            JAVA_INT);

    private CublasHandles() {
    }

    private static MethodHandle bind(String symbol, MemoryLayout... args) {
        return Downcalls.bind(LIB, symbol, FunctionDescriptor.of(JAVA_INT, args));
    }
}
