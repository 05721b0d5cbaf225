package dev.bulkhead.cuemu;

import dev.bulkhead.ffi.CudaLibraries;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Bulkhead CUDA emulator: one native library, built by this module from its C++ sources and the kernels'
 * own {@code .cuh} sources with the system C++ compiler, that exports the CUDA driver API and cuBLAS functions
 * Bulkhead binds (same names, same C signatures) and runs every kernel on the CPU: a fiber per CUDA thread,
 * real barriers and lockstep warp shuffles, thread order shuffled per launch from a seed, every memory access
 * checked, streams that run later on a thread of their own, graphs, sticky errors and fault injection.
 *
 * <p>It proves the CUDA path's logic without a GPU. It never proves speed, the GPU's memory model or what nvcc
 * generates: a result from the emulator is not a GPU result. It is used only when asked for
 * ({@code --device cuda-emulator}); {@link #activate} binds this process's CUDA calls to it.
 */
public final class CudaEmulator {

    private static final Logger LOG = LoggerFactory.getLogger(CudaEmulator.class);

    /** The device name the emulator reports, so no log or metric can mistake it for a GPU. */
    public static final String DEVICE_NAME = "Bulkhead CUDA emulator (CPU, not a GPU)";

    private static final String LIBRARY = "libbulkhead-cuemu.so";
    private static final String RESOURCE = "/dev/bulkhead/cuemu/native/linux-"
            + System.getProperty("os.arch", "unknown").toLowerCase(Locale.ROOT) + "/" + LIBRARY;

    // NOTE: process-wide, like the CUDA bindings the emulator stands in for (see CudaLibraries).
    private static Path library;
    private static Extensions extensions;

    private CudaEmulator() {
    }

    /** Whether this jar has the emulator (it is built when the build machine has a C++ compiler). */
    public static boolean isBuilt() {
        return CudaEmulator.class.getResource(RESOURCE) != null;
    }

    /** Why the emulator cannot be used, for messages; empty when it can. */
    public static String unavailableReason() {
        if (isBuilt()) {
            return "";
        }
        return "this build has no CUDA emulator (" + RESOURCE.substring(1) + " is not in bulkhead-cuda-emulator: it"
                + " is built on Linux when g++ is on PATH, without -Dbulkhead.skipEmulator=true)";
    }

    /**
     * Binds this process's CUDA calls to the emulator, extracted under {@code cacheRoot} on first use, and
     * applies the {@code bulkhead.cuemu.seed}, {@code .memory} and {@code .faults} system properties. Logs one
     * WARN that the CUDA path now runs on an emulator.
     *
     * @throws IllegalStateException when the emulator is not built, or the NVIDIA driver is already bound
     */
    public static synchronized void activate(Path cacheRoot) {
        if (extensions != null) {
            return;
        }
        if (!isBuilt()) {
            throw new IllegalStateException(unavailableReason());
        }
        Path lib = extract(cacheRoot);
        CudaLibraries.useEmulator(lib);
        Extensions ext = new Extensions(lib);
        for (String key : new String[] {"memory", "seed", "faults"}) {
            String value = System.getProperty("bulkhead.cuemu." + key);
            if (value != null && !value.isBlank()) {
                ext.configure(key, value);
            }
        }
        library = lib;
        extensions = ext;
        LOG.warn("CUDA runs on the Bulkhead CUDA emulator ({}), not a GPU: kernels execute on the CPU to test the"
                + " CUDA path's logic, far slower than the CPU backend; nothing here measures or proves GPU behaviour",
                lib);
    }

    /** Whether {@link #activate} has bound this process to the emulator. */
    public static synchronized boolean isActive() {
        return extensions != null;
    }

    /** The extracted library (after {@link #activate}). */
    public static synchronized Path library() {
        return requireActive().library;
    }

    /** The module image that gives the emulator's build of {@code bulkhead.cu} (used when the jar has no fatbin). */
    public static byte[] kernelImage() {
        return "BKEMU:bulkhead\0".getBytes(StandardCharsets.US_ASCII);
    }

    /** The module image of the probe kernels (probes.cuh) that the emulator's own tests launch. */
    public static byte[] probeImage() {
        return "BKEMU:probes\0".getBytes(StandardCharsets.US_ASCII);
    }

    /** The seed the thread orders of every launch derive from (print it with a failure to reproduce it). */
    public static long seed() {
        return requireActive().seed();
    }

    /**
     * Sets an emulator option: {@code seed} (any time), {@code faults} (any time: {@code launch:KERNEL:N} makes
     * the N-th run of KERNEL from now fault with a sticky illegal address, {@code alloc:N} makes the N-th
     * cuMemAlloc from now fail with CUDA_ERROR_OUT_OF_MEMORY; comma-separated; empty clears), {@code memory}
     * (before the first CUDA call: bytes with an optional k/M/G suffix).
     */
    public static void configure(String key, String value) {
        requireActive().configure(key, value);
    }

    /** Counters since the process started. */
    public static Stats stats() {
        return requireActive().stats();
    }

    /** The emulator's description of the last kernel fault (empty when none). */
    public static String lastFault() {
        return requireActive().report();
    }

    /**
     * What the emulator has done so far.
     *
     * @param launches       kernel launches run
     * @param blocks         thread blocks run
     * @param threads        CUDA threads run
     * @param graphLaunches  cuGraphLaunch calls
     * @param gemms          cuBLAS GEMM calls run
     * @param faultsInjected faults made by {@link #configure}'s {@code faults}
     */
    public record Stats(long launches, long blocks, long threads, long graphLaunches, long gemms, long faultsInjected) {
    }

    private static Extensions requireActive() {
        synchronized (CudaEmulator.class) {
            if (extensions == null) {
                throw new IllegalStateException("the CUDA emulator is not active in this process (CudaEmulator.activate)");
            }
            return extensions;
        }
    }

    /** Copies the library out of the jar into {@code cacheRoot/native/<content hash>/}, once per content. */
    private static Path extract(Path cacheRoot) {
        byte[] bytes;
        try (InputStream in = CudaEmulator.class.getResourceAsStream(RESOURCE)) {
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
        try {
            String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes), 0, 8);
            Path dir = cacheRoot.resolve("native").resolve(hash);
            Path target = dir.resolve(LIBRARY);
            if (Files.isRegularFile(target) && Files.size(target) == bytes.length) {
                return target;
            }
            Files.createDirectories(dir);
            // NOTE: written beside the target and moved into place, so a concurrent JVM never maps half a file.
            Path tmp = Files.createTempFile(dir, LIBRARY, ".part");
            Files.write(tmp, bytes);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract the CUDA emulator under " + cacheRoot, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The emulator's own calls (bkemu_*), beside the CUDA API it exports. */
    private record Extensions(Path library, MethodHandle configureCall, MethodHandle seedCall, MethodHandle statsCall,
                              MethodHandle reportCall) {

        Extensions(Path library) {
            this(library, SymbolLookup.libraryLookup(library, Arena.global()));
        }

        private Extensions(Path library, SymbolLookup lookup) {
            this(library,
                    bind(lookup, "bkemu_configure", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                            ValueLayout.ADDRESS)),
                    bind(lookup, "bkemu_seed", FunctionDescriptor.of(ValueLayout.JAVA_LONG)),
                    bind(lookup, "bkemu_stats", FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_INT)),
                    bind(lookup, "bkemu_error_report", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                            ValueLayout.JAVA_LONG)));
        }

        private static MethodHandle bind(SymbolLookup lookup, String name, FunctionDescriptor fd) {
            return Linker.nativeLinker().downcallHandle(lookup.find(name).orElseThrow(
                    () -> new IllegalStateException(name + " is missing from the CUDA emulator library")), fd);
        }

        void configure(String key, String value) {
            int r;
            try (Arena a = Arena.ofConfined()) {
                r = (int) configureCall.invokeExact(a.allocateFrom(key), a.allocateFrom(value));
            } catch (Throwable t) {
                throw new IllegalStateException("bkemu_configure failed", t);
            }
            if (r == -2) {
                throw new IllegalStateException("the CUDA emulator's " + key + " can only be set before the first CUDA call");
            }
            if (r != 0) {
                throw new IllegalArgumentException("the CUDA emulator rejects " + key + " = '" + value + "'");
            }
        }

        long seed() {
            try {
                return (long) seedCall.invokeExact();
            } catch (Throwable t) {
                throw new IllegalStateException("bkemu_seed failed", t);
            }
        }

        Stats stats() {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ValueLayout.JAVA_LONG, 6);
                statsCall.invokeExact(out, 6);
                long[] v = out.toArray(ValueLayout.JAVA_LONG);
                return new Stats(v[0], v[1], v[2], v[3], v[4], v[5]);
            } catch (Throwable t) {
                throw new IllegalStateException("bkemu_stats failed", t);
            }
        }

        String report() {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment buf = a.allocate(4096);
                int n = (int) reportCall.invokeExact(buf, 4096L);
                return n <= 0 ? "" : buf.getString(0, StandardCharsets.UTF_8);
            } catch (Throwable t) {
                throw new IllegalStateException("bkemu_error_report failed", t);
            }
        }
    }
}
