package dev.bulkhead.ffi;

/**
 * A CUDA library could not be loaded at all (not installed, not on any searched path). Carries the same
 * message as {@link CudaRuntime#probe()}'s reason; code {@code -1}.
 */
public final class CudaUnavailableException extends CudaException {

    private static final long serialVersionUID = 1L;

    public CudaUnavailableException(String library, String api, String reason) {
        super(library, api, -1, "LIBRARY_NOT_LOADED", reason);
    }
}
