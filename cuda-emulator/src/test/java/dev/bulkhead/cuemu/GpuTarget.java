package dev.bulkhead.cuemu;

import dev.bulkhead.ffi.CudaAvailability;
import dev.bulkhead.ffi.CudaRuntime;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * Where this JVM's tests tagged {@code gpu} run, from {@code -Dbulkhead.gpu.target}: {@code emulator} (every
 * build: the CUDA emulator, bound before the first CUDA call) or {@code device} (a real GPU, as
 * {@code cuda-kernels/gpu/run-gpu-checks.sh} runs them). One JVM binds CUDA once, so a run is one or the other.
 */
public final class GpuTarget {

    private GpuTarget() {
    }

    /** True when the tests run on the emulator. */
    public static boolean emulated() {
        return !"device".equals(System.getProperty("bulkhead.gpu.target", "emulator"));
    }

    /** Makes CUDA usable for the calling test, or skips it with the reason (no GPU, or no emulator in this build). */
    public static void require() {
        if (emulated()) {
            Assumptions.assumeTrue(CudaEmulator.isBuilt(), CudaEmulator::unavailableReason);
            CudaEmulator.activate(cacheRoot());
            return;
        }
        CudaAvailability a = CudaRuntime.probeWithCublas();
        Assumptions.assumeTrue(a.available(), a.reason());
    }

    /** Requires the emulator itself (tests of the emulator's own checks); skipped on a real device. */
    public static void requireEmulator() {
        Assumptions.assumeTrue(emulated(), "an emulator test; this run targets a real GPU");
        require();
    }

    /** Where the emulator library is extracted: the build's test cache, else the temp directory. */
    public static Path cacheRoot() {
        String dir = System.getProperty("bulkhead.cache.dir");
        return Path.of(dir != null && !dir.isBlank() ? dir : System.getProperty("java.io.tmpdir"));
    }
}
