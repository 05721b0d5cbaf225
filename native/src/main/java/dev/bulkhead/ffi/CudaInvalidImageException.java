package dev.bulkhead.ffi;

/** A fatbin, cubin or PTX image the driver cannot load (no code for this GPU, bad PTX, unsupported PTX version). */
public final class CudaInvalidImageException extends CudaException {

    private static final long serialVersionUID = 1L;

    public CudaInvalidImageException(String api, int code, String codeName, String detail) {
        super("CUDA driver", api, code, codeName, detail);
    }
}
