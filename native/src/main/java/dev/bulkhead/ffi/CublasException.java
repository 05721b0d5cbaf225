package dev.bulkhead.ffi;

import java.util.Map;

/** A cuBLAS call that returned a {@code cublasStatus_t} other than {@code CUBLAS_STATUS_SUCCESS}. */
public final class CublasException extends CudaException {

    private static final long serialVersionUID = 1L;

    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(0, "CUBLAS_STATUS_SUCCESS"),
            Map.entry(1, "CUBLAS_STATUS_NOT_INITIALIZED"),
            Map.entry(3, "CUBLAS_STATUS_ALLOC_FAILED"),
            Map.entry(7, "CUBLAS_STATUS_INVALID_VALUE"),
            Map.entry(8, "CUBLAS_STATUS_ARCH_MISMATCH"),
            Map.entry(11, "CUBLAS_STATUS_MAPPING_ERROR"),
            Map.entry(13, "CUBLAS_STATUS_EXECUTION_FAILED"),
            Map.entry(14, "CUBLAS_STATUS_INTERNAL_ERROR"),
            Map.entry(15, "CUBLAS_STATUS_NOT_SUPPORTED"),
            Map.entry(16, "CUBLAS_STATUS_LICENSE_ERROR"));

    public CublasException(String api, int code, String codeName, String detail) {
        super("cuBLAS", api, code, codeName, detail);
    }

    /** The name of a {@code cublasStatus_t} value. */
    public static String statusName(int status) {
        String n = NAMES.get(status);
        return n != null ? n : "CUBLAS_STATUS_UNKNOWN_" + status;
    }

    /**
     * The exception for {@code status} returned by {@code api}: {@link CudaOutOfMemoryException} for
     * {@code CUBLAS_STATUS_ALLOC_FAILED}, a {@link CublasException} otherwise.
     */
    public static CudaException of(String api, int status, String detail) {
        String name = statusName(status);
        return status == 3
                ? new CudaOutOfMemoryException("cuBLAS", api, status, name, detail)
                : new CublasException(api, status, name, detail);
    }
}
