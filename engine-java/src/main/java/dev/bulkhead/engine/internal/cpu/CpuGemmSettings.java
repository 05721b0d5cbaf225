package dev.bulkhead.engine.internal.cpu;

import dev.bulkhead.engine.EngineOptions;
import dev.bulkhead.engine.EngineOptions.CpuGemm;

/**
 * How the CPU backend multiplies weights by a batch of activations: {@link CpuGemm#JAVA} (the Vector API
 * kernels, batch invariant) or {@link CpuGemm#OPENBLAS}, which hands every product of at least
 * {@code minTokens} tokens (prefill chunks, large decode batches) to {@code cblas_sgemm}, whatever the weight
 * type ({@link BlasGemm}); smaller ones stay on the Java kernels. NOTE: OpenBLAS gives up batch invariance: it sums in its own
 * blocked order, so a token's logits differ in the last bits depending on whether its step had
 * {@code minTokens} tokens, and the golden and "same as a solo run" guarantees hold only for Java.
 *
 * @param kind       the implementation
 * @param library    OpenBLAS file or folder to look in first; empty: search {@code LD_LIBRARY_PATH},
 *                   {@code ldconfig -p} and the system library folders
 * @param minTokens  smallest batch handed to BLAS (below it the Java kernels are as fast or faster)
 * @param heapAccess pass activation and result arrays to BLAS in place as heap segments (a critical downcall,
 *                   which holds off garbage collection and safepoints for the length of the call) instead of
 *                   copying them through native buffers. NOTE: off by default: the copy (a few MiB per product)
 *                   measured no slower within the noise of docs/benchmarks.md, and a critical call of 50 ms would
 *                   stall every other thread that waits for a safepoint
 */
public record CpuGemmSettings(CpuGemm kind, String library, int minTokens, boolean heapAccess) {

    /** System property naming the OpenBLAS file or folder. */
    public static final String LIBRARY_PROPERTY = "bulkhead.cpu.openblas";
    /** System property overriding {@link #DEFAULT_MIN_TOKENS}. */
    public static final String MIN_TOKENS_PROPERTY = "bulkhead.cpu.gemm.minTokens";
    /** System property turning {@link #heapAccess} on ({@code true}). */
    public static final String HEAP_ACCESS_PROPERTY = "bulkhead.cpu.gemm.heapAccess";

    /**
     * Batch size from which OpenBLAS is used: on the 2-core AVX2 EPYC of docs/benchmarks.md ("Every weight type
     * through OpenBLAS") every type breaks even between 16 and 32 tokens against the Java kernels.
     */
    public static final int DEFAULT_MIN_TOKENS = 32;

    /** The Java kernels. */
    public static final CpuGemmSettings JAVA = new CpuGemmSettings(CpuGemm.JAVA, "", DEFAULT_MIN_TOKENS, false);

    public CpuGemmSettings {
        if (kind == null) {
            throw new IllegalArgumentException("kind must not be null");
        }
        library = library == null ? "" : library;
        if (minTokens < 1) {
            throw new IllegalArgumentException("minTokens must be >= 1, got " + minTokens);
        }
    }

    /** {@code kind} with the library, threshold and heap access of the system properties (defaults when unset). */
    public static CpuGemmSettings of(CpuGemm kind) {
        return new CpuGemmSettings(kind, System.getProperty(LIBRARY_PROPERTY, ""),
                Integer.getInteger(MIN_TOKENS_PROPERTY, DEFAULT_MIN_TOKENS),
                Boolean.getBoolean(HEAP_ACCESS_PROPERTY));
    }

    /** {@link #of} the kind named by {@code -Dbulkhead.cpu.gemm} ({@code java} unless set). */
    public static CpuGemmSettings fromSystemProperties() {
        return of(CpuGemm.parse(System.getProperty(EngineOptions.CPU_GEMM_PROPERTY, "java")));
    }
}
