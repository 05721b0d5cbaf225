package dev.bulkhead.ffi;

/** A named symbol (kernel, global) is not in the loaded module: the fatbin and the Java kernel index disagree. */
public final class CudaNotFoundException extends CudaException {

    private static final long serialVersionUID = 1L;

    public CudaNotFoundException(String api, int code, String codeName, String detail) {
        super("CUDA driver", api, code, codeName, detail);
    }
}
