package dev.bulkhead.ffi;

import java.nio.file.Path;

/**
 * Which native libraries back this process's CUDA bindings: the NVIDIA driver and cuBLAS found on the system
 * (the default), or the Bulkhead CUDA emulator, one library that exports the same driver API and cuBLAS
 * functions with the same C signatures and runs the kernels on the CPU. Every binding is resolved once into
 * a static method handle, so the choice is made once per process, before the first CUDA call.
 */
public final class CudaLibraries {

    // NOTE: process-wide on purpose: a native library is bound once per process, like the handles it backs.
    private static Path emulator;
    private static boolean bound;

    private CudaLibraries() {
    }

    /**
     * Binds CUDA to the emulator library at {@code library} from now on.
     *
     * @throws IllegalStateException when the NVIDIA driver is already bound in this process
     */
    public static synchronized void useEmulator(Path library) {
        if (emulator != null) {
            if (!emulator.equals(library)) {
                throw new IllegalStateException("CUDA is already bound to the emulator at " + emulator);
            }
            return;
        }
        if (bound) {
            throw new IllegalStateException("CUDA is already bound to the NVIDIA driver in this process; the emulator"
                    + " must be chosen before the first CUDA call");
        }
        emulator = library;
    }

    /** Whether this process's CUDA calls go to the emulator. */
    public static synchronized boolean emulated() {
        return emulator != null;
    }

    static synchronized Downcalls.Library driver() {
        bound = true;
        return emulator != null ? Downcalls.Library.loadFile("CUDA emulator", emulator)
                : Downcalls.Library.load("CUDA driver", LibraryLocator.locate(LibrarySpec.CUDA_DRIVER,
                        SearchPaths.fromEnvironment()));
    }

    /** cuBLASLt, which libcublas needs loaded first; the emulator has no separate one. */
    static synchronized Downcalls.Library cublasLt() {
        bound = true;
        return emulator != null ? Downcalls.Library.loadFile("CUDA emulator", emulator)
                : Downcalls.Library.load("cuBLASLt", LibraryLocator.locate(LibrarySpec.CUBLAS_LT,
                        SearchPaths.fromEnvironment()));
    }

    static synchronized Downcalls.Library cublas() {
        bound = true;
        return emulator != null ? Downcalls.Library.loadFile("CUDA emulator", emulator)
                : Downcalls.Library.load("cuBLAS", LibraryLocator.locate(LibrarySpec.CUBLAS,
                        SearchPaths.fromEnvironment()));
    }
}
