package dev.bulkhead.engine.internal.cpu;

import java.util.Locale;

/**
 * Which code multiplies F32 and BF16 weights by a batch of activations on the CPU backend.
 *
 * <p>{@link Kind#JAVA} (the default) is the Vector API kernels, batch invariant: a token's result never
 * depends on the other tokens of the step. {@link Kind#OPENBLAS} hands every F32/BF16 product of at least
 * {@code minTokens} tokens (prefill chunks, large decode batches) to OpenBLAS's {@code cblas_sgemm}; smaller
 * ones and quantized weights stay on the Java kernels. NOTE: that gives up batch invariance: BLAS sums in its
 * own blocked order, so a token's logits differ in the last bits depending on whether its step had
 * {@code minTokens} tokens, and the golden and "same as a solo run" guarantees hold only for the default.
 *
 * @param kind       the implementation
 * @param library    OpenBLAS file or folder to look in first; empty: search {@code LD_LIBRARY_PATH},
 *                   {@code ldconfig -p} and the system library folders
 * @param minTokens  smallest batch handed to BLAS (below it the Java kernels are as fast or faster)
 * @param heapAccess pass activation arrays to BLAS in place as heap segments (a critical downcall, which holds
 *                   off garbage collection and safepoints for the length of the call) instead of copying them
 *                   through native buffers
 */
public record CpuGemm(Kind kind, String library, int minTokens, boolean heapAccess) {

    /** Implementations. */
    public enum Kind { JAVA, OPENBLAS }

    /** System property with the default kind ({@code java} or {@code openblas}), the {@code --cpu-gemm} flag's twin. */
    public static final String PROPERTY = "bulkhead.cpu.gemm";
    /** System property naming the OpenBLAS file or folder. */
    public static final String LIBRARY_PROPERTY = "bulkhead.cpu.openblas";
    /** System property overriding {@link #DEFAULT_MIN_TOKENS}. */
    public static final String MIN_TOKENS_PROPERTY = "bulkhead.cpu.gemm.minTokens";
    /** System property turning {@link #heapAccess} off ({@code false}) or on. */
    public static final String HEAP_ACCESS_PROPERTY = "bulkhead.cpu.gemm.heapAccess";

    /** Batch size from which OpenBLAS is used (see docs/benchmarks.md, "OpenBLAS GEMM"). */
    public static final int DEFAULT_MIN_TOKENS = 16;

    /** The Java kernels. */
    public static final CpuGemm JAVA = new CpuGemm(Kind.JAVA, "", DEFAULT_MIN_TOKENS, true);

    public CpuGemm {
        if (kind == null) {
            throw new IllegalArgumentException("kind must not be null");
        }
        library = library == null ? "" : library;
        if (minTokens < 1) {
            throw new IllegalArgumentException("minTokens must be >= 1, got " + minTokens);
        }
    }

    /** OpenBLAS from {@code library} (empty: search) with the default batch threshold and heap access. */
    public static CpuGemm openBlas(String library) {
        return new CpuGemm(Kind.OPENBLAS, library, DEFAULT_MIN_TOKENS, true);
    }

    /** The kind named {@code name} ({@code java} or {@code openblas}, any case). */
    public static Kind parseKind(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "java" -> Kind.JAVA;
            case "openblas" -> Kind.OPENBLAS;
            default -> throw new IllegalArgumentException("--cpu-gemm must be java or openblas, got '" + name + "'");
        };
    }

    /** From {@code -Dbulkhead.cpu.gemm}, {@code -Dbulkhead.cpu.openblas}, {@code -Dbulkhead.cpu.gemm.minTokens} and {@code -Dbulkhead.cpu.gemm.heapAccess}. */
    public static CpuGemm fromSystemProperties() {
        Kind kind = parseKind(System.getProperty(PROPERTY, "java"));
        return new CpuGemm(kind, System.getProperty(LIBRARY_PROPERTY, ""),
                Integer.getInteger(MIN_TOKENS_PROPERTY, DEFAULT_MIN_TOKENS),
                !"false".equalsIgnoreCase(System.getProperty(HEAP_ACCESS_PROPERTY, "true")));
    }
}
