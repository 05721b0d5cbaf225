package dev.bulkhead.ffi;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** CUresult and cublasStatus codes become named exceptions that carry the API, the code and its name. */
class CudaExceptionTest {

    @Test
    void namesEveryCodeOfTheHeader() {
        assertThat(CudaErrorNames.size()).isEqualTo(101);
        assertThat(CudaErrorNames.name(0)).isEqualTo("CUDA_SUCCESS");
        assertThat(CudaErrorNames.name(2)).isEqualTo("CUDA_ERROR_OUT_OF_MEMORY");
        assertThat(CudaErrorNames.name(100)).isEqualTo("CUDA_ERROR_NO_DEVICE");
        assertThat(CudaErrorNames.name(209)).isEqualTo("CUDA_ERROR_NO_BINARY_FOR_GPU");
        assertThat(CudaErrorNames.name(700)).isEqualTo("CUDA_ERROR_ILLEGAL_ADDRESS");
        assertThat(CudaErrorNames.name(999)).isEqualTo("CUDA_ERROR_UNKNOWN");
        assertThat(CudaErrorNames.name(12345)).isEqualTo("CUDA_ERROR_UNKNOWN_CODE_12345");
    }

    @Test
    void mapsCodesToTheMostSpecificException() {
        assertThat(CudaException.of("cuMemAlloc_v2", 2)).isInstanceOf(CudaOutOfMemoryException.class);
        assertThat(CudaException.of("cuInit", 100)).isInstanceOf(CudaNoDeviceException.class);
        assertThat(CudaException.of("cuInit", 34)).isInstanceOf(CudaNoDeviceException.class);
        assertThat(CudaException.of("cuModuleLoadData", 209)).isInstanceOf(CudaInvalidImageException.class);
        assertThat(CudaException.of("cuModuleGetFunction", 500)).isInstanceOf(CudaNotFoundException.class);
        assertThat(CudaException.of("cuStreamSynchronize", 700)).isInstanceOf(CudaLaunchException.class);
        assertThat(CudaException.of("cuLaunchKernel", 701)).isInstanceOf(CudaLaunchException.class);
        assertThat(CudaException.of("cuCtxSetCurrent", 201)).isExactlyInstanceOf(CudaException.class);
    }

    @Test
    void messageNamesLibraryApiCodeAndDetail() {
        CudaException e = CudaException.of("cuMemAlloc_v2", 2, "1073741824 bytes");
        assertThat(e.getMessage()).isEqualTo(
                "CUDA driver call cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2); 1073741824 bytes");
        assertThat(e.api()).isEqualTo("cuMemAlloc_v2");
        assertThat(e.code()).isEqualTo(2);
        assertThat(e.codeName()).isEqualTo("CUDA_ERROR_OUT_OF_MEMORY");
        assertThat(e.library()).isEqualTo("CUDA driver");
    }

    @Test
    void mapsCublasStatuses() {
        assertThat(CublasException.of("cublasCreate_v2", 3, "")).isInstanceOf(CudaOutOfMemoryException.class)
                .hasMessage("cuBLAS call cublasCreate_v2 failed: CUBLAS_STATUS_ALLOC_FAILED (3)");
        CudaException e = CublasException.of("cublasGemmEx", 7, "m=1 n=2 k=3");
        assertThat(e).isInstanceOf(CublasException.class);
        assertThat(e.codeName()).isEqualTo("CUBLAS_STATUS_INVALID_VALUE");
        assertThat(e.getMessage()).contains("cublasGemmEx", "(7)", "m=1 n=2 k=3");
        assertThat(CublasException.statusName(15)).isEqualTo("CUBLAS_STATUS_NOT_SUPPORTED");
        assertThat(CublasException.statusName(99)).isEqualTo("CUBLAS_STATUS_UNKNOWN_99");
    }
}
