package dev.bulkhead.ffi;

/**
 * Whether the CUDA backend can run here, and why (or why not) in words a user can act on.
 *
 * @param available true when a driver, a usable device and (where asked) cuBLAS were found
 * @param reason    what was found, or what is missing and how to fix it
 */
public record CudaAvailability(boolean available, String reason) {

    public CudaAvailability {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("an availability needs a reason");
        }
    }

    public static CudaAvailability available(String what) {
        return new CudaAvailability(true, what);
    }

    public static CudaAvailability unavailable(String why) {
        return new CudaAvailability(false, why);
    }
}
