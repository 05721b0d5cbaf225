package dev.bulkhead.engine.internal.cpu;

import dev.bulkhead.ffi.LibraryLocator;
import dev.bulkhead.ffi.LibrarySpec;
import dev.bulkhead.ffi.SearchPaths;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The few OpenBLAS functions the optional GEMM path calls, bound through the FFM API: {@code cblas_sgemm},
 * {@code openblas_set_num_threads} and {@code openblas_get_config}. {@code cblas_sbgemm} is bound when the
 * library exports it (OpenBLAS 0.3.10+ built with BFLOAT16; Debian 12's 0.3.21 is not), but it is not used:
 * BF16 weights are widened to float tiles (see {@link BlasGemm}).
 *
 * <p>NOTE: the handles are instance fields, not {@code static final}, because the library file is chosen at
 * run time; a GEMM call takes milliseconds, so the lost constant folding of the handle does not show.
 */
public final class OpenBlas {

    /** OpenBLAS as Debian/Ubuntu ({@code libopenblas0-pthread}), Fedora and conda install it. */
    public static final LibrarySpec SPEC = new LibrarySpec("libopenblas.so.0",
            List.of("libopenblas.so.0", "libopenblas.so"), null, null,
            "install OpenBLAS (Debian/Ubuntu: apt-get install libopenblas0-pthread), name its file or folder with "
                    + "-D" + CpuGemmSettings.LIBRARY_PROPERTY + "=..., or use --cpu-gemm java");

    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final int TRANS = 112;

    private final Path file;
    private final MethodHandle sgemm;
    private final MethodHandle setNumThreads;
    private final MethodHandle getConfig;
    private final boolean hasSbgemm;

    private OpenBlas(Path file, SymbolLookup symbols, Linker.Option... sgemmOptions) {
        this.file = file;
        Linker linker = Linker.nativeLinker();
        this.sgemm = linker.downcallHandle(find(symbols, "cblas_sgemm"), FunctionDescriptor.ofVoid(
                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_FLOAT,
                ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                ValueLayout.JAVA_FLOAT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), sgemmOptions);
        this.setNumThreads = linker.downcallHandle(find(symbols, "openblas_set_num_threads"),
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
        this.getConfig = linker.downcallHandle(find(symbols, "openblas_get_config"),
                FunctionDescriptor.of(ValueLayout.ADDRESS.withTargetLayout(
                        java.lang.foreign.MemoryLayout.sequenceLayout(1024, ValueLayout.JAVA_BYTE))));
        this.hasSbgemm = symbols.find("cblas_sbgemm").isPresent();
    }

    /**
     * Loads OpenBLAS from {@code location} (a file, or a folder to search first; empty: search the usual
     * places) and binds its functions.
     *
     * @param heapAccess bind {@code cblas_sgemm} with {@link Linker.Option#critical(boolean) critical(true)} so
     *                   it may be passed heap segments of float arrays without a copy
     * @throws CpuGemmUnavailableException when the library is not found, cannot be loaded or lacks a symbol
     */
    public static OpenBlas load(String location, boolean heapAccess) {
        Path file = locate(location);
        try {
            // NOTE: Arena.global(): OpenBLAS starts worker threads that must never see their code unmapped,
            // and a BLAS library is loaded once per process anyway.
            SymbolLookup symbols = SymbolLookup.libraryLookup(file, Arena.global());
            return heapAccess ? new OpenBlas(file, symbols, Linker.Option.critical(true)) : new OpenBlas(file, symbols);
        } catch (IllegalArgumentException | IllegalCallerException e) {
            throw new CpuGemmUnavailableException("cannot load " + file + ": " + e.getMessage() + "; "
                    + SPEC.installHint());
        }
    }

    /** The library file: {@code location} itself if it is a file, else the locator's search. */
    static Path locate(String location) {
        if (!location.isBlank() && Files.isRegularFile(Path.of(location))) {
            return Path.of(location);
        }
        if (!location.isBlank() && !Files.isDirectory(Path.of(location))) {
            // NOTE: a path the user named that is not there is a typo, not a reason to take another library.
            throw new CpuGemmUnavailableException("--cpu-gemm openblas: " + CpuGemmSettings.LIBRARY_PROPERTY + "="
                    + location + " is neither a file nor a folder; " + SPEC.installHint());
        }
        List<Path> override = location.isBlank() ? List.of() : List.of(Path.of(location));
        SearchPaths env;
        try {
            env = SearchPaths.fromEnvironment();
        } catch (NoClassDefFoundError e) {
            throw new CpuGemmUnavailableException("--cpu-gemm openblas needs bulkhead-native on the class path "
                    + "(the engine declares it optional; add it beside bulkhead-engine)");
        }
        // NOTE: the CUDA override folder and the pip nvidia-* wheels are not places OpenBLAS lives.
        SearchPaths paths = new SearchPaths(override, env.ldLibraryPath(), env.ldconfigFiles(), env.toolkitDirs(),
                List.of());
        return locate(location, paths);
    }

    /** {@link #locate(String)} over given search paths (tests point it at fake layouts). */
    static Path locate(String location, SearchPaths paths) {
        LibraryLocator.Lookup lookup = LibraryLocator.locate(SPEC, paths);
        if (lookup.path().isEmpty()) {
            String asked = location.isBlank() ? "" : " (" + CpuGemmSettings.LIBRARY_PROPERTY + "=" + location + ")";
            throw new CpuGemmUnavailableException("--cpu-gemm openblas: " + lookup.notFoundMessage() + asked);
        }
        return lookup.path().get();
    }

    private static MemorySegment find(SymbolLookup symbols, String name) {
        return symbols.find(name).orElseThrow(() -> new CpuGemmUnavailableException(
                name + " is not exported by this libopenblas (not an OpenBLAS build?); " + SPEC.installHint()));
    }

    /** The file that was loaded. */
    public Path file() {
        return file;
    }

    /** Whether the library exports {@code cblas_sbgemm} (BF16 inputs). */
    public boolean hasSbgemm() {
        return hasSbgemm;
    }

    /** OpenBLAS's build string, e.g. {@code OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64}. */
    public String config() {
        try {
            MemorySegment s = (MemorySegment) getConfig.invokeExact();
            return s.getString(0);
        } catch (Throwable t) {
            throw rethrow("openblas_get_config()", t);
        }
    }

    /** Sets the process-wide number of OpenBLAS threads. */
    public void setNumThreads(int threads) {
        try {
            setNumThreads.invokeExact(threads);
        } catch (Throwable t) {
            throw rethrow("openblas_set_num_threads(" + threads + ")", t);
        }
    }

    /**
     * {@code c[t, r] = sum_k a[t, k] * b[r, k]} (row major; {@code c = a b^T}) for t in [0, m), r in [0, n),
     * k in [0, k): {@code a} is {@code m x k} with row stride {@code lda}, {@code b} is {@code n x k} with row
     * stride {@code ldb} (a Linear layer's weights), {@code c} is {@code m x n} with row stride {@code ldc}.
     */
    public void gemmTransposedB(int m, int n, int k, MemorySegment a, int lda, MemorySegment b, int ldb,
                                MemorySegment c, int ldc) {
        try {
            sgemm.invokeExact(ROW_MAJOR, NO_TRANS, TRANS, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
        } catch (Throwable t) {
            throw rethrow("cblas_sgemm(m=" + m + ", n=" + n + ", k=" + k + ")", t);
        }
    }

    private static RuntimeException rethrow(String call, Throwable t) {
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(call + " failed: " + t, t);
    }
}
