package dev.bulkhead.bench.gpu;

import dev.bulkhead.engine.internal.cuda.Backends;
import dev.bulkhead.ffi.CudaContext;
import dev.bulkhead.ffi.CudaDriver;
import dev.bulkhead.ffi.CudaLibraries;
import java.util.Locale;

/**
 * The CUDA device a GPU benchmark ran on, as the project's own FFM bindings see it. Every result file of a GPU
 * run carries it, so a figure measured on the CPU emulator can never pass for a GPU figure.
 *
 * @param target            {@code device} (a GPU) or {@code emulator} (the CPU CUDA emulator: not a GPU result)
 * @param name              cuDeviceGetName of device 0
 * @param computeCapability major * 10 + minor (90 for an H100)
 * @param multiprocessors   streaming multiprocessors
 * @param totalMemoryBytes  device memory
 * @param driverVersion     cuDriverGetVersion, e.g. 12040
 * @param backend           what {@link Backends} chose and why (its probe's words)
 */
public record GpuDevice(String target, String name, int computeCapability, int multiprocessors,
                        long totalMemoryBytes, int driverVersion, String backend) {

    public static final String DEVICE = "device";
    public static final String EMULATOR = "emulator";

    /**
     * Binds this process's CUDA calls for {@code device} ({@code cuda} or {@code cuda-emulator}, as
     * {@link Backends#choose} takes them) and describes device 0.
     *
     * @throws IllegalStateException when that backend is not usable (the reason says why), or is the CPU
     */
    public static GpuDevice bind(String device) {
        Backends.Choice choice = Backends.choose(device);
        if (choice.name().equals("cpu")) {
            throw new IllegalArgumentException("a GPU benchmark needs --device cuda or " + Backends.EMULATOR
                    + ", got '" + device + "'");
        }
        try (CudaContext ctx = CudaContext.open(0)) {
            return new GpuDevice(CudaLibraries.emulated() ? EMULATOR : DEVICE, ctx.deviceName(),
                    ctx.computeCapability(), ctx.multiprocessors(), ctx.memoryInfo().total(),
                    CudaDriver.driverVersion(), choice.name() + ": " + choice.reason());
        }
    }

    /** Whether the figures were measured on the CPU emulator. */
    public boolean emulated() {
        return EMULATOR.equals(target);
    }

    /** One line for logs and tables. */
    public String describe() {
        return String.format(Locale.ROOT, "%s (%s, sm_%d, %d SMs, %d MiB, driver CUDA %d.%d)", name, target, computeCapability,
                multiprocessors, totalMemoryBytes >> 20, driverVersion / 1000, driverVersion % 1000 / 10);
    }
}
