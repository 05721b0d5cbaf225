package dev.bulkhead.ffi;

/**
 * Detects whether CUDA can be used, without ever failing: a missing library, a driver without devices or a
 * GPU too old for the kernels all come back as an unavailable {@link CudaAvailability} with the reason.
 */
public final class CudaRuntime {

    /** The kernels are built for sm_80 and sm_90 (plus compute_90 PTX): bf16 needs compute capability 8.0. */
    public static final int MIN_COMPUTE_CAPABILITY = 80;

    private CudaRuntime() {
    }

    /** Probes the driver library, {@code cuInit}, the device count and device 0's compute capability. */
    public static CudaAvailability probe() {
        Downcalls.Library lib = DriverHandles.LIB;
        if (!lib.loaded()) {
            return CudaAvailability.unavailable(lib.failure());
        }
        try {
            CudaDriver.init();
            int count = CudaDriver.deviceCount();
            if (count == 0) {
                return CudaAvailability.unavailable("the CUDA driver sees no device (CUDA_VISIBLE_DEVICES="
                        + System.getenv("CUDA_VISIBLE_DEVICES") + "); run with --device cpu");
            }
            int dev = CudaDriver.device(0);
            int cc = computeCapability(dev);
            String name = CudaDriver.deviceName(dev);
            if (cc < MIN_COMPUTE_CAPABILITY) {
                return CudaAvailability.unavailable(name + " has compute capability " + cc / 10 + "." + cc % 10
                        + "; Bulkhead's CUDA kernels need 8.0 or newer (Ampere+); run with --device cpu");
            }
            int v = CudaDriver.driverVersion();
            return CudaAvailability.available(count + " CUDA device(s), device 0: " + name + " (sm_" + cc
                    + "), driver CUDA " + v / 1000 + "." + v % 1000 / 10);
        } catch (CudaException e) {
            return CudaAvailability.unavailable("the CUDA driver is installed but not usable: " + e.getMessage()
                    + "; check nvidia-smi or run with --device cpu");
        }
    }

    /** Probes the driver as {@link #probe()}, then that cuBLAS can be loaded. */
    public static CudaAvailability probeWithCublas() {
        CudaAvailability driver = probe();
        if (!driver.available()) {
            return driver;
        }
        Downcalls.Library cublas = CublasHandles.LIB;
        if (!cublas.loaded()) {
            return CudaAvailability.unavailable(cublas.failure());
        }
        return CudaAvailability.available(driver.reason() + ", cuBLAS loaded");
    }

    /**
     * Only the library search of {@link #probe()}, against explicit search paths (tests use fake layouts):
     * unavailable with the "not found (searched: ...)" message, or available naming the file.
     */
    public static CudaAvailability probeLibrary(LibrarySpec spec, SearchPaths paths) {
        LibraryLocator.Lookup lookup = LibraryLocator.locate(spec, paths);
        return lookup.path().map(p -> CudaAvailability.available(spec.displayName() + " found at " + p))
                .orElseGet(() -> CudaAvailability.unavailable(lookup.notFoundMessage()));
    }

    /** Compute capability as major * 10 + minor (90 for H100). */
    public static int computeCapability(int device) {
        return CudaDriver.deviceAttribute(device, CudaDriver.ATTR_COMPUTE_CAPABILITY_MAJOR) * 10
                + CudaDriver.deviceAttribute(device, CudaDriver.ATTR_COMPUTE_CAPABILITY_MINOR);
    }
}
