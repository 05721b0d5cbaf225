package dev.bulkhead.kernels;

/** The jar has no fatbin: it was built without nvcc. The CUDA backend cannot run from it. */
public final class KernelsNotBuiltException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    public KernelsNotBuiltException(String message) {
        super(message);
    }
}
