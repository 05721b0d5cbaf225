package dev.bulkhead.engine.cuda;

import dev.bulkhead.engine.runner.ModelRunnerFactory;
import dev.bulkhead.ffi.CudaAvailability;
import dev.bulkhead.ffi.CudaRuntime;
import dev.bulkhead.kernels.KernelImage;
import java.util.Locale;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the backend at startup, like Lucene's vectorization provider: {@code cpu} always works; {@code cuda}
 * needs a driver, a usable GPU, cuBLAS and a jar built with the kernels, and fails with the reason when one is
 * missing; {@code auto} takes CUDA when all are there and otherwise falls back to the CPU with one WARN
 * naming the reason and the fix. Every choice logs exactly one line.
 */
public final class Backends {

    private static final Logger LOG = LoggerFactory.getLogger(Backends.class);

    /**
     * What was chosen and why.
     *
     * @param name    "cpu" or "cuda"
     * @param factory runners of that backend
     * @param reason  why this one (the probe's words)
     */
    public record Choice(String name, ModelRunnerFactory factory, String reason) {
    }

    private Backends() {
    }

    /** Chooses for {@code device} ({@code auto}, {@code cpu}, {@code cuda} or {@code cuda:N}) from the real probe. */
    public static Choice choose(String device) {
        return choose(device, Backends::probe);
    }

    /** As {@link #choose(String)} with the CUDA probe supplied (tests). */
    static Choice choose(String device, Supplier<CudaAvailability> probe) {
        String d = device == null ? "auto" : device.trim().toLowerCase(Locale.ROOT);
        if (d.equals("cpu")) {
            Choice c = new Choice("cpu", ModelRunnerFactory.CPU, "--device cpu");
            LOG.info("backend: cpu (requested with --device cpu)");
            return c;
        }
        int ordinal = 0;
        if (d.startsWith("cuda:")) {
            ordinal = Integer.parseInt(d.substring(5));
            d = "cuda";
        }
        if (!d.equals("cuda") && !d.equals("auto")) {
            throw new IllegalArgumentException("unknown device '" + device + "': use auto, cpu, cuda or cuda:N");
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
