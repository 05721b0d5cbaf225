package dev.bulkhead.engine.internal.cpu;

/** The BLAS path was asked for ({@code --cpu-gemm openblas}) but cannot be used; the message says why and how to fix it. */
public final class CpuGemmUnavailableException extends IllegalStateException {

    public CpuGemmUnavailableException(String message) {
        super(message);
    }
}
