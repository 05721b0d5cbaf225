package dev.bulkhead.engine.internal.cuda;

import dev.bulkhead.cuemu.CudaEmulator;
import dev.bulkhead.engine.internal.runner.ModelRunnerFactory;
import dev.bulkhead.ffi.CudaAvailability;
import dev.bulkhead.ffi.CudaLibraries;
import dev.bulkhead.ffi.CudaRuntime;
import dev.bulkhead.kernels.KernelImage;
import dev.bulkhead.model.embedded.EmbeddedModel;
import java.util.Locale;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the backend at startup, like Lucene's vectorization provider: {@code cpu} always works; {@code cuda}
 * needs a driver, a usable GPU, cuBLAS and a jar built with the kernels, and fails with the reason when one is
 * missing; {@code auto} takes CUDA when all are there and otherwise falls back to the CPU with one WARN
 * naming the reason and the fix. {@code cuda-emulator} runs the CUDA backend on the CPU emulator of the driver,
 * cuBLAS and the kernels, for tests without a GPU; only that name selects it ({@code auto} never does), and it
 * binds the whole process's CUDA calls to the emulator. Every choice logs exactly one line.
 */
public final class Backends {

    private static final Logger LOG = LoggerFactory.getLogger(Backends.class);

    /** The device name that selects the CUDA emulator. */
    public static final String EMULATOR = "cuda-emulator";

    /**
     * What was chosen and why.
     *
     * @param name    "cpu", "cuda" or "cuda-emulator"
     * @param factory runners of that backend
     * @param reason  why this one (the probe's words)
     */
    public record Choice(String name, ModelRunnerFactory factory, String reason) {
    }

    private Backends() {
    }

    /** Chooses for {@code device} ({@code auto}, {@code cpu}, {@code cuda}, {@code cuda:N} or {@code cuda-emulator}). */
    public static Choice choose(String device) {
        // NOTE: checked before anything names a CUDA type: even the probe's method reference links one.
        String d = device == null ? "auto" : device.trim().toLowerCase(Locale.ROOT);
        String missing = d.equals("cpu") ? null : missingCudaArtifact(d.equals(EMULATOR));
        if (missing == null) {
            return choose(device, Backends::probe);
        }
        if (d.equals("auto")) {
            LOG.info("backend: cpu ({} is not on the class path)", missing);
            return new Choice("cpu", ModelRunnerFactory.CPU, missing + " is not on the class path");
        }
        throw new IllegalStateException("--device " + device + " needs " + missing + " on the class path (the "
                + "engine declares the CUDA artifacts optional; add them beside bulkhead-engine)");
    }

    /** As {@link #choose(String)} with the CUDA probe supplied (tests). */
    static Choice choose(String device, Supplier<CudaAvailability> probe) {
        return choose(device, probe, CudaLibraries.emulated());
    }

    /** As {@link #choose(String, Supplier)}, saying whether this process's CUDA is bound to the emulator (tests). */
    static Choice choose(String device, Supplier<CudaAvailability> probe, boolean emulatorBound) {
        String d = device == null ? "auto" : device.trim().toLowerCase(Locale.ROOT);
        if (d.equals("cpu")) {
            Choice c = new Choice("cpu", ModelRunnerFactory.CPU, "--device cpu");
            LOG.info("backend: cpu (requested with --device cpu)");
            return c;
        }
        if (d.equals(EMULATOR)) {
            return emulator();
        }
        if (emulatorBound) {
            // NOTE: this process's CUDA bindings are the emulator's; only asking for it by name may use it.
            if (d.equals("auto")) {
                LOG.warn("backend: cpu, because this process's CUDA calls are bound to the CUDA emulator and auto"
                        + " never picks it");
                return new Choice("cpu", ModelRunnerFactory.CPU, "CUDA is bound to the emulator");
            }
            throw new IllegalStateException("--device " + device + " requested, but this process's CUDA calls are"
                    + " bound to the CUDA emulator; use --device cuda-emulator or a new process");
        }
        int ordinal = 0;
        if (d.startsWith("cuda:")) {
            ordinal = Integer.parseInt(d.substring(5));
            d = "cuda";
        }
        if (!d.equals("cuda") && !d.equals("auto")) {
            throw new IllegalArgumentException("unknown device '" + device + "': use auto, cpu, cuda, cuda:N or "
                    + EMULATOR);
        }
        CudaAvailability a = probe.get();
        if (a.available()) {
            LOG.info("backend: cuda device {} ({})", ordinal, a.reason());
            return new Choice("cuda", CudaRunners.factory(ordinal), a.reason());
        }
        if (d.equals("cuda")) {
            throw new IllegalStateException("--device cuda requested but CUDA is not usable: " + a.reason());
        }
        LOG.warn("backend: cpu, because CUDA is not usable: {}", a.reason());
        return new Choice("cpu", ModelRunnerFactory.CPU, a.reason());
    }

    /** The first CUDA artifact this device needs that is absent from the class path, or null. */
    static String missingCudaArtifact(boolean emulator) {
        String[][] needed = {{"dev.bulkhead.ffi.CudaRuntime", "dev.bulkhead:bulkhead-native"},
                             {"dev.bulkhead.kernels.KernelImage", "dev.bulkhead:bulkhead-cuda-kernels"},
                             {"dev.bulkhead.cuemu.CudaEmulator", "dev.bulkhead:bulkhead-cuda-emulator"}};
        for (String[] n : needed) {
            if (!emulator && n[1].endsWith("emulator")) {
                continue;
            }
            try {
                Class.forName(n[0], false, Backends.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                return n[1];
            }
        }
        return null;
    }

    /** The CUDA backend on the CPU emulator: it says so in one WARN when activated, and in its device name. */
    private static Choice emulator() {
        if (!CudaEmulator.isBuilt()) {
            throw new IllegalStateException("--device " + EMULATOR + " requested but " + CudaEmulator.unavailableReason());
        }
        CudaEmulator.activate(EmbeddedModel.defaultCacheRoot());
        CudaAvailability a = CudaRuntime.probeWithCublas();
        if (!a.available()) {
            throw new IllegalStateException("--device " + EMULATOR + " requested but the emulator is not usable: "
                    + a.reason());
        }
        // NOTE: CudaEmulator.activate logged the one WARN that CUDA now runs on an emulator.
        LOG.info("backend: cuda-emulator ({}), far slower than --device cpu", a.reason());
        return new Choice(EMULATOR, CudaRunners.factory(0), a.reason());
    }

    /** Driver, device and cuBLAS from {@link CudaRuntime}, then the kernels in this jar. */
    static CudaAvailability probe() {
        CudaAvailability a = CudaRuntime.probeWithCublas();
        if (a.available() && !KernelImage.isPresent()) {
            return CudaAvailability.unavailable("built without CUDA kernels (no nvcc when bulkhead-cuda-kernels was"
                    + " built); rebuild with the CUDA toolkit on PATH or run with --device cpu");
        }
        return a;
    }
}
