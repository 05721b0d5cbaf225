package dev.bulkhead.ffi;

/**
 * A failed call into the CUDA driver or a CUDA library, naming the library, the function and the code.
 * {@link #of(String, int)} picks the most specific subclass for a {@code CUresult}, so callers can catch
 * {@link CudaOutOfMemoryException} without decoding numbers.
 */
public class CudaException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String library;
    private final String api;
    private final int code;
    private final String codeName;

    /**
     * @param library  "CUDA driver", "cuBLAS", ...
     * @param api      the function that failed, e.g. {@code cuMemAlloc_v2}
     * @param code     the status it returned
     * @param codeName the status's enum name
     * @param detail   arguments or advice worth printing; may be empty
     */
    public CudaException(String library, String api, int code, String codeName, String detail) {
        super(library + " call " + api + " failed: " + codeName + " (" + code + ")"
                + (detail == null || detail.isEmpty() ? "" : "; " + detail));
        this.library = library;
        this.api = api;
        this.code = code;
        this.codeName = codeName;
    }

    /** The exception for a driver {@code CUresult} {@code code} returned by {@code api}. */
    public static CudaException of(String api, int code) {
        return of(api, code, "");
    }

    /** As {@link #of(String, int)} with a detail (arguments, sizes) appended to the message. */
    public static CudaException of(String api, int code, String detail) {
        String name = CudaErrorNames.name(code);
        detail = EmulatorReport.append(code, detail);
        return switch (code) {
            case 2 -> new CudaOutOfMemoryException("CUDA driver", api, code, name, detail);
            case 34, 35, 100, 101 -> new CudaNoDeviceException(api, code, name, detail);
            case 200, 209, 218, 222, 300 -> new CudaInvalidImageException(api, code, name, detail);
            case 500 -> new CudaNotFoundException(api, code, name, detail);
            case 700, 701, 702, 710, 714, 715, 716, 717, 718, 719 -> new CudaLaunchException(api, code, name, detail);
            default -> new CudaException("CUDA driver", api, code, name, detail);
        };
    }

    /**
     * Whether this error poisons the context for good: after an illegal address, a launch failure or a device
     * assert every later call on the context returns it ("sticky"), so whatever uses the context must be
     * rebuilt on a fresh one (CUDA documents that the process should be restarted).
     */
    public boolean contextLost() {
        return "CUDA driver".equals(library) && switch (code) {
            case 700, 702, 710, 714, 715, 716, 717, 718, 719 -> true;
            default -> false;
        };
    }

    /** The library that reported the error ("CUDA driver", "cuBLAS"). */
    public String library() {
        return library;
    }

    /** The function that failed, as exported by the library. */
    public String api() {
        return api;
    }

    /** The numeric status. */
    public int code() {
        return code;
    }

    /** The status's enum name, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public String codeName() {
        return codeName;
    }
}
