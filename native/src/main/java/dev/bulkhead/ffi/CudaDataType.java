package dev.bulkhead.ffi;

/** {@code cudaDataType_t} values cuBLAS takes for matrix element types. */
public enum CudaDataType {
    /** {@code CUDA_R_32F}. */
    F32(0, 4),
    /** {@code CUDA_R_16F}. */
    F16(2, 2),
    /** {@code CUDA_R_16BF}. */
    BF16(14, 2);

    private final int code;
    private final int byteSize;

    CudaDataType(int code, int byteSize) {
        this.code = code;
        this.byteSize = byteSize;
    }

    public int code() {
        return code;
    }

    public int byteSize() {
        return byteSize;
    }
}
