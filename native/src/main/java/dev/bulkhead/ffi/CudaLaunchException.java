package dev.bulkhead.ffi;

/** A kernel launch or a kernel fault (illegal address, out of resources, timeout); most of these leave the context unusable. */
public final class CudaLaunchException extends CudaException {

    private static final long serialVersionUID = 1L;

    public CudaLaunchException(String api, int code, String codeName, String detail) {
        super("CUDA driver", api, code, codeName, detail);
    }
}
