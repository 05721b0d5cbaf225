package dev.bulkhead.ffi;

/** No usable device or driver: no device, invalid ordinal, a stub or too old driver. */
public final class CudaNoDeviceException extends CudaException {

    private static final long serialVersionUID = 1L;

    public CudaNoDeviceException(String api, int code, String codeName, String detail) {
        super("CUDA driver", api, code, codeName, detail);
    }
}
