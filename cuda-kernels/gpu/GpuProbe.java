import dev.bulkhead.cuemu.CudaEmulator;
import dev.bulkhead.ffi.CudaAvailability;
import dev.bulkhead.ffi.CudaRuntime;
import java.nio.file.Path;

/**
 * Prints, on one line, the CUDA device that tests tagged {@code gpu} will see, through the same binding they use
 * (see dev.bulkhead.cuemu.GpuTarget): {@code GpuProbe device} probes the driver and cuBLAS, {@code GpuProbe emulator
 * CACHE_DIR} binds the CUDA emulator first. run-gpu-checks.sh compiles it at prepare time and runs it before the
 * tests, for gpu-summary.txt; it is not a test and never fails the run (exit status 0 unless it crashes).
 */
public final class GpuProbe {

    private GpuProbe() {
    }

    public static void main(String[] args) {
        boolean emulator = args.length > 0 && args[0].equals("emulator");
        if (emulator) {
            if (!CudaEmulator.isBuilt()) {
                System.out.println("unavailable: " + CudaEmulator.unavailableReason());
                return;
            }
            CudaEmulator.activate(Path.of(args.length > 1 ? args[1] : System.getProperty("java.io.tmpdir")));
        }
        CudaAvailability a = CudaRuntime.probeWithCublas();
        System.out.println((a.available() ? "available: " : "unavailable: ") + a.reason());
    }
}
