package dev.bulkhead.ffi;

import java.util.List;

/**
 * What a native library is called on disk and how to get it.
 *
 * @param displayName  the name used in messages ({@code libcuda.so.1})
 * @param fileNames    exact file names to try in each directory, preferred first
 * @param filePrefix   also accept any file starting with this (e.g. {@code libcublas.so.}) when no exact name
 *                     matches, newest version first; {@code null} for none
 * @param pipPackage   folder under {@code site-packages/nvidia/} of the pip wheel that ships it
 *                     ({@code cublas}); {@code null} when no wheel does (the driver)
 * @param installHint  what a user should do when it is missing
 */
public record LibrarySpec(String displayName, List<String> fileNames, String filePrefix, String pipPackage,
                          String installHint) {

    /** The CUDA driver API; only the NVIDIA driver installs it. */
    public static final LibrarySpec CUDA_DRIVER = new LibrarySpec("libcuda.so.1",
            List.of("libcuda.so.1", "libcuda.so"), null, null,
            "install the NVIDIA driver or run with --device cpu");

    /** cuBLAS (CUDA 13 or 12). */
    public static final LibrarySpec CUBLAS = new LibrarySpec("libcublas.so",
            List.of("libcublas.so.13", "libcublas.so.12", "libcublas.so"), "libcublas.so.", "cublas",
            "install cuBLAS (CUDA toolkit, or pip install nvidia-cublas-cu12) or run with --device cpu");

    /** cuBLASLt, which cuBLAS links against; loaded first from the same place so cuBLAS resolves it. */
    public static final LibrarySpec CUBLAS_LT = new LibrarySpec("libcublasLt.so",
            List.of("libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"), "libcublasLt.so.", "cublas",
            "install cuBLAS (CUDA toolkit, or pip install nvidia-cublas-cu12) or run with --device cpu");

    public LibrarySpec {
        if (fileNames.isEmpty()) {
            throw new IllegalArgumentException("a library needs at least one file name");
        }
        fileNames = List.copyOf(fileNames);
    }
}
