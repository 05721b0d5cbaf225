package dev.bulkhead.kernels;

import dev.bulkhead.ffi.CudaLibraries;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The fatbin nvcc built into this jar ({@code dev/bulkhead/kernels/bulkhead.fatbin}), if it did. */
public final class KernelImage {

    /** Class-path location of the fatbin. */
    public static final String RESOURCE = "/dev/bulkhead/kernels/bulkhead.fatbin";

    private KernelImage() {
    }

    /**
     * The image to load into a context of this process: the fatbin, or, when CUDA is bound to the emulator and
     * nvcc did not build a fatbin, the name of the emulator's own build of the same sources (the emulator runs
     * that build for a fatbin too: it cannot execute SASS or PTX).
     *
     * @throws KernelsNotBuiltException when there is neither
     */
    public static byte[] forThisProcess() {
        if (!isPresent() && CudaLibraries.emulated()) {
            return "BKEMU:bulkhead\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        }
        return load();
    }

    /** Whether this build has the kernels (nvcc was present and not skipped). */
    public static boolean isPresent() {
        return KernelImage.class.getResource(RESOURCE) != null;
    }

    /**
     * The fatbin bytes.
     *
     * @throws KernelsNotBuiltException when the jar was built without nvcc or with -Dbulkhead.skipCuda=true
     */
    public static byte[] load() {
        try (InputStream in = KernelImage.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new KernelsNotBuiltException("built without CUDA kernels: " + RESOURCE + " is not on the class"
                        + " path (nvcc was not found or -Dbulkhead.skipCuda=true when bulkhead-cuda-kernels was"
                        + " built); rebuild with the CUDA toolkit on PATH or run with --device cpu");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }
}
