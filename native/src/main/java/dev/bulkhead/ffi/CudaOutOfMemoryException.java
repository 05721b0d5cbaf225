package dev.bulkhead.ffi;

/** Device (or pinned host) memory ran out: {@code CUDA_ERROR_OUT_OF_MEMORY} or {@code CUBLAS_STATUS_ALLOC_FAILED}. */
public final class CudaOutOfMemoryException extends CudaException {

    private static final long serialVersionUID = 1L;

    public CudaOutOfMemoryException(String library, String api, int code, String codeName, String detail) {
        super(library, api, code, codeName, detail);
    }
}
