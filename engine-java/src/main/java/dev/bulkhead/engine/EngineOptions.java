package dev.bulkhead.engine;

/**
 * How one model's engine is sized. Everything is fixed at load: the KV pool comes from the byte budget, and
 * nothing grows at request time.
 *
 * @param threads          CPU threads for the forward pass
 * @param blockSize        tokens per KV block
 * @param kvCacheBytes     byte budget of the KV pool (K and V, every layer; f32 on the CPU backend, bf16 on CUDA), or
 *                         {@link #KV_CACHE_AUTO} to size it at start from need and free memory
 * @param maxBatchedTokens token budget of one step (decodes plus prefill chunks)
 * @param maxRunning       most sequences in one step
 * @param maxModelLen      longest prompt + output in tokens; 0 means the model's max_position_embeddings
 *                         capped at {@link #DEFAULT_MAX_MODEL_LEN}
 * @param prefixCaching    reuse KV blocks of shared prompt prefixes
 * @param asyncScheduling  on a runner that samples on its device and launches steps without waiting (the CUDA
 *                         backend), schedule and prepare step N+1 and do step N's bookkeeping while the device runs
 *                         step N (vLLM v1's asynchronous scheduling); off, every step completes before the next is
 *                         scheduled. Other runners always run synchronously.
 * @param cpuGemm          who multiplies weights by large batches on the CPU backend (see {@link CpuGemm})
 */
public record EngineOptions(int threads, int blockSize, long kvCacheBytes, int maxBatchedTokens, int maxRunning,
                            int maxModelLen, boolean prefixCaching, boolean asyncScheduling, CpuGemm cpuGemm) {

    /**
     * The CPU backend's matrix product for large batches ({@code --cpu-gemm}).
     *
     * <p>{@link #JAVA}, the default, is the engine's own Vector API kernels: batch invariant (a token's logits
     * never depend on the rest of its step), the guarantee the golden tests rely on. {@link #OPENBLAS} hands
     * products of at least 32 tokens (prefill chunks, large decode batches) to OpenBLAS's {@code cblas_sgemm}
     * through the FFM API, whatever the weight type (all but F32 are first widened to float tiles); on the
     * machines measured (docs/benchmarks.md) that is faster for prefill, at the price of batch invariance on
     * those steps. It needs {@code libopenblas.so.0} (found on the library path, or named
     * with {@code -Dbulkhead.cpu.openblas=FILE_OR_FOLDER}); when it is missing the engine fails to start with a
     * message saying so, rather than silently running a different path.
     */
    public enum CpuGemm {
        /** The Java kernels (default). */
        JAVA,
        /** OpenBLAS for batches of at least 32 tokens. */
        OPENBLAS;

        /** {@code java} or {@code openblas}, any case. */
        public static CpuGemm parse(String name) {
            return switch (name.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "java" -> JAVA;
                case "openblas" -> OPENBLAS;
                default -> throw new IllegalArgumentException("--cpu-gemm must be java or openblas, got '" + name + "'");
            };
        }
    }

    /** System property with the default {@link CpuGemm} for options made without saying ({@code java} unless set). */
    public static final String CPU_GEMM_PROPERTY = "bulkhead.cpu.gemm";

    /**
     * The {@code kvCacheBytes} that sizes the KV pool automatically when the engine starts (the default). The pool
     * then holds {@code maxRunning} sequences at the full context ({@code maxModelLen}), so a full batch never
     * preempts for want of blocks, capped by what memory allows the backend's pool, and never less than one
     * sequence of {@code maxModelLen} tokens. On the CPU backend, whose pool is float arrays on the Java heap, the
     * cap comes from the heap this JVM has once the model is loaded: at most 3/4 of its maximum, and no more than
     * leaves what is in use plus 1/8 of the heap free. On the CUDA backend the cap is the fixed 256 MiB of
     * earlier releases, since the engine sizes the pool before the runner takes its device memory. If one
     * full-context sequence does not fit under the cap, the engine fails to start with a message naming
     * kvCacheBytes, the need and the limit. The engine's start log line says which size it chose and why.
     */
    public static final long KV_CACHE_AUTO = 0;

    /** Default context cap on the CPU backend, where a 128k context would be wasted memory. */
    public static final int DEFAULT_MAX_MODEL_LEN = 4096;

    /** System property that turns asynchronous scheduling off ({@code false}) for options made without saying. */
    public static final String ASYNC_PROPERTY = "bulkhead.engine.async";

    public EngineOptions {
        range("threads", threads, 1, 1024);
        range("blockSize", blockSize, 1, 1024);
        if (kvCacheBytes < 0) {
            throw new IllegalArgumentException("kvCacheBytes must be >= 1, or KV_CACHE_AUTO (0) to size the pool "
                    + "automatically, got " + kvCacheBytes);
        }
        range("maxBatchedTokens", maxBatchedTokens, 1, 1 << 16);
        range("maxRunning", maxRunning, 1, 1 << 16);
        range("maxModelLen", maxModelLen, 0, 1 << 24);
        if (cpuGemm == null) {
            throw new IllegalArgumentException("cpuGemm must not be null");
        }
    }

    /** Options with {@link CpuGemm} from {@code -Dbulkhead.cpu.gemm} ({@code java} unless set). */
    public EngineOptions(int threads, int blockSize, long kvCacheBytes, int maxBatchedTokens, int maxRunning,
                         int maxModelLen, boolean prefixCaching, boolean asyncScheduling) {
        this(threads, blockSize, kvCacheBytes, maxBatchedTokens, maxRunning, maxModelLen, prefixCaching,
                asyncScheduling, CpuGemm.parse(System.getProperty(CPU_GEMM_PROPERTY, "java")));
    }

    /** Options with asynchronous scheduling on unless {@code -Dbulkhead.engine.async=false}. */
    public EngineOptions(int threads, int blockSize, long kvCacheBytes, int maxBatchedTokens, int maxRunning,
                         int maxModelLen, boolean prefixCaching) {
        this(threads, blockSize, kvCacheBytes, maxBatchedTokens, maxRunning, maxModelLen, prefixCaching,
                !"false".equalsIgnoreCase(System.getProperty(ASYNC_PROPERTY, "true")));
    }

    private static void range(String field, long value, long min, long max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(field + " must be in [" + min + ", " + max + "], got " + value);
        }
    }

    /**
     * Every processor the JVM sees, 16-token blocks, a KV pool sized automatically ({@link #KV_CACHE_AUTO}: 64
     * sequences at the full context when memory allows), 512-token steps, 64 sequences, prefix caching on,
     * asynchronous scheduling on (unless {@code -Dbulkhead.engine.async=false}).
     *
     * <p>The forward pass then keeps every core busy while it runs: a service that shares the machine with other
     * work should give the engine fewer with {@link #withThreads(int)} (decode is bound by memory bandwidth, which
     * half the cores usually saturate).
     */
    public static EngineOptions defaults() {
        return new EngineOptions(Runtime.getRuntime().availableProcessors(), 16, KV_CACHE_AUTO, 512, 64, 0, true);
    }

    /** Whether the KV pool is sized automatically at start ({@link #KV_CACHE_AUTO}). */
    public boolean isKvCacheAuto() {
        return kvCacheBytes == KV_CACHE_AUTO;
    }

    public EngineOptions withThreads(int n) {
        return new EngineOptions(n, blockSize, kvCacheBytes, maxBatchedTokens, maxRunning, maxModelLen,
                prefixCaching, asyncScheduling, cpuGemm);
    }

    /** These options with a KV pool of {@code bytes}, or one sized automatically for {@link #KV_CACHE_AUTO}. */
    public EngineOptions withKvCacheBytes(long bytes) {
        return new EngineOptions(threads, blockSize, bytes, maxBatchedTokens, maxRunning, maxModelLen,
                prefixCaching, asyncScheduling, cpuGemm);
    }

    /** These options with the KV pool sized automatically at start (see {@link #KV_CACHE_AUTO}). */
    public EngineOptions withKvCacheAuto() {
        return withKvCacheBytes(KV_CACHE_AUTO);
    }

    public EngineOptions withBlockSize(int size) {
        return new EngineOptions(threads, size, kvCacheBytes, maxBatchedTokens, maxRunning, maxModelLen,
                prefixCaching, asyncScheduling, cpuGemm);
    }

    public EngineOptions withMaxBatchedTokens(int n) {
        return new EngineOptions(threads, blockSize, kvCacheBytes, n, maxRunning, maxModelLen,
                prefixCaching, asyncScheduling, cpuGemm);
    }

    public EngineOptions withMaxRunning(int n) {
        return new EngineOptions(threads, blockSize, kvCacheBytes, maxBatchedTokens, n, maxModelLen,
                prefixCaching, asyncScheduling, cpuGemm);
    }

    public EngineOptions withMaxModelLen(int n) {
        return new EngineOptions(threads, blockSize, kvCacheBytes, maxBatchedTokens, maxRunning, n,
                prefixCaching, asyncScheduling, cpuGemm);
    }

    public EngineOptions withPrefixCaching(boolean on) {
        return new EngineOptions(threads, blockSize, kvCacheBytes, maxBatchedTokens, maxRunning, maxModelLen,
                on, asyncScheduling, cpuGemm);
    }

    public EngineOptions withCpuGemm(CpuGemm gemm) {
        return new EngineOptions(threads, blockSize, kvCacheBytes, maxBatchedTokens, maxRunning, maxModelLen,
                prefixCaching, asyncScheduling, gemm);
    }

    public EngineOptions withAsyncScheduling(boolean on) {
        return new EngineOptions(threads, blockSize, kvCacheBytes, maxBatchedTokens, maxRunning, maxModelLen,
                prefixCaching, on, cpuGemm);
    }
}
