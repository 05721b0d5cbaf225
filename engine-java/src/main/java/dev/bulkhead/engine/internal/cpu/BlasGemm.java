package dev.bulkhead.engine.internal.cpu;

import dev.bulkhead.engine.EngineOptions.CpuGemm;
import dev.bulkhead.model.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The optional BLAS path of the CPU backend ({@link CpuGemm#OPENBLAS}): a product of at least {@code minTokens}
 * tokens becomes one {@code cblas_sgemm} per matrix, or per float tile of it. F32 weights are passed in place
 * from their mapped segment. Every other type is widened on the pool to float tiles of about
 * {@value #TILE_BYTES} bytes, each one sgemm: BF16 and F16 in column order (Debian's OpenBLAS has no
 * {@code cblas_sbgemm}), the block-quantized types in their kernels' lane order
 * ({@link QuantizedMatrix#widenRowsLaneOrdered}), multiplied by a copy of the activations in the same order.
 * This is what ggml's BLAS backend does for big batches too: dequantize, then one float GEMM. The quantized
 * types then multiply float activations, not the 8-bit ones of their Java kernels.
 *
 * <p>NOTE: OpenBLAS runs its own threads (set to the engine's count at creation), so a product is not also
 * split over the {@link CpuThreadPool}; the pool only widens tiles. The thread count is process wide:
 * engines with different counts in one JVM share the last one set.
 *
 * <p>Not thread safe: one instance per runner, called from its step thread. Owns its native buffers.
 */
public final class BlasGemm implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BlasGemm.class);

    /** Float tile a non-F32 matrix is widened into per sgemm: big enough for BLAS to block well. */
    static final long TILE_BYTES = 4L << 20;

    private final OpenBlas blas;
    private final int minTokens;
    private final boolean heapAccess;
    private final Buffer a = new Buffer();    // (tokens, cols) activations, when not passed in place
    private final Buffer al = new Buffer();   // the same in lane order, for quantized weights
    private final Buffer c = new Buffer();    // (tokens, rows) results, when not written in place
    private final Buffer tile = new Buffer(); // (tile rows, cols) widened weights

    private BlasGemm(OpenBlas blas, int minTokens, boolean heapAccess) {
        this.blas = blas;
        this.minTokens = minTokens;
        this.heapAccess = heapAccess;
    }

    /**
     * The BLAS path {@code gemm} asks for with {@code threads} BLAS threads, or null for {@link CpuGemm#JAVA}.
     *
     * @throws CpuGemmUnavailableException when OpenBLAS is asked for but cannot be loaded
     */
    public static BlasGemm create(CpuGemmSettings gemm, int threads) {
        if (gemm.kind() == CpuGemm.JAVA) {
            return null;
        }
        OpenBlas blas = OpenBlas.load(gemm.library(), gemm.heapAccess());
        blas.setNumThreads(threads);
        LOG.info("cpu gemm: OpenBLAS {} ({}), {} threads, products of >= {} tokens, activations {}, "
                        + "non-F32 weights widened to float tiles{}; batch invariance off for those steps",
                blas.file(), blas.config(), threads, gemm.minTokens(),
                gemm.heapAccess() ? "in place (critical downcall)" : "copied to native buffers",
                blas.hasSbgemm() ? " (cblas_sbgemm present but unused)" : "");
        return new BlasGemm(blas, gemm.minTokens(), gemm.heapAccess());
    }

    /**
     * Whether {@link #multiply} takes {@code w} at {@code tokens} tokens: from {@code minTokens}, and for BF16
     * and F16 from twice that. NOTE: their Java path is already the float tile over a converted copy
     * ({@link FloatTiles}), so BLAS gains only its blocking, which needs more tokens to repay the widened tile:
     * {@code GemmCompare <type> 2048 768 16,32,48,64 2 4} (2 threads, AVX2) put BLAS at 0.66 (BF16) and 0.67 (F16)
     * of Java at 32 tokens and 1.16 and 0.95 at 64, while F32 was at 1.25 and Q4_0 and Q4_K at 1.2-1.3 from 32.
     */
    public boolean handles(WeightMatrix w, int tokens) {
        boolean floatTiled = w.dtype() == DType.BF16 || w.dtype() == DType.F16;
        return tokens >= (floatTiled ? 2 * minTokens : minTokens);
    }

    /**
     * {@code outs[m] = x W_m^T} for every matrix (which all share {@code x}'s columns and must all be
     * {@link #handles handled}).
     */
    public void multiply(CpuThreadPool pool, WeightMatrix[] ws, float[] x, int tokens, float[][] outs) {
        int cols = ws[0].cols();
        MemorySegment in = null;
        MemorySegment inLaneOrdered = null;
        for (int m = 0; m < ws.length; m++) {
            WeightMatrix w = ws[m];
            float[] out = outs[m];
            int rows = w.rows();
            MemorySegment result = heapAccess ? MemorySegment.ofArray(out) : c.ensure((long) tokens * rows);
            if (w instanceof QuantizedMatrix q) {
                if (inLaneOrdered == null) {
                    float[] ordered = new float[tokens * cols];
                    IntDot.laneOrder(x, 0, ordered, 0, tokens * cols);
                    inLaneOrdered = activations(al, ordered, tokens * cols);
                }
                multiplyWidened(pool, w, q::widenRowsLaneOrdered, inLaneOrdered, tokens, result);
            } else {
                if (in == null) {
                    in = activations(a, x, tokens * cols);
                }
                switch (w) {
                    case F32Matrix f -> blas.gemmTransposedB(tokens, rows, cols, in, cols, f.data, cols, result, rows);
                    case Bf16Matrix b -> multiplyWidened(pool, w, b::widenRows, in, tokens, result);
                    default -> multiplyWidened(pool, w, (r0, r1, dst, off) -> widenByRow(w, r0, r1, dst, off),
                            in, tokens, result);
                }
            }
            if (!heapAccess) {
                MemorySegment.copy(result, ValueLayout.JAVA_FLOAT, 0, out, 0, tokens * rows);
            }
        }
    }

    /** As {@link #multiply(CpuThreadPool, WeightMatrix[], float[], int, float[][])} for one matrix. */
    public void multiply(CpuThreadPool pool, WeightMatrix w, float[] x, int tokens, float[] out) {
        multiply(pool, new WeightMatrix[] {w}, x, tokens, new float[][] {out});
    }

    private MemorySegment activations(Buffer buffer, float[] x, int floats) {
        if (heapAccess) {
            return MemorySegment.ofArray(x);
        }
        MemorySegment s = buffer.ensure(floats);
        MemorySegment.copy(x, 0, s, ValueLayout.JAVA_FLOAT, 0, floats);
        return s;
    }

    /** Writes rows [r0, r1) of a matrix as floats at {@code dst[dstOff ..]}, one row after the other. */
    @FunctionalInterface
    private interface RowWidener {
        void widen(int r0, int r1, MemorySegment dst, long dstOff);
    }

    /** The rows of a type with no bulk widener of its own (F16): its {@link WeightMatrix#dequantizeRow}. */
    private static void widenByRow(WeightMatrix w, int r0, int r1, MemorySegment dst, long dstOff) {
        int cols = w.cols();
        float[] row = new float[cols];
        for (int r = r0; r < r1; r++) {
            w.dequantizeRow(r, row, 0);
            MemorySegment.copy(row, 0, dst, ValueLayout.JAVA_FLOAT, dstOff + 4L * (r - r0) * cols, cols);
        }
    }

    private void multiplyWidened(CpuThreadPool pool, WeightMatrix w, RowWidener widener, MemorySegment in,
                                 int tokens, MemorySegment out) {
        int cols = w.cols();
        int rows = w.rows();
        int tileRows = (int) Math.max(WeightMatrices.ROW_GRAIN,
                TILE_BYTES / (4L * cols) / WeightMatrices.ROW_GRAIN * WeightMatrices.ROW_GRAIN);
        MemorySegment t = tile.ensure((long) Math.min(tileRows, rows) * cols);
        for (int r0 = 0; r0 < rows; r0 += tileRows) {
            int base = r0;
            int n = Math.min(tileRows, rows - r0);
            pool.parallelFor(n, WeightMatrices.ROW_GRAIN,
                    (start, end) -> widener.widen(base + start, base + end, t, 4L * start * cols));
            blas.gemmTransposedB(tokens, n, cols, in, cols, t, cols, out.asSlice(4L * r0), rows);
        }
    }

    @Override
    public void close() {
        a.close();
        al.close();
        c.close();
        tile.close();
    }

    /** A native float buffer that grows on demand; each size lives in its own arena, closed when outgrown. */
    private static final class Buffer implements AutoCloseable {

        private Arena arena;
        private MemorySegment segment = MemorySegment.NULL;

        MemorySegment ensure(long floats) {
            if (segment.byteSize() < floats * Float.BYTES) {
                close();
                // NOTE: shared, because a runner is built on one thread and stepped on the engine loop's.
                arena = Arena.ofShared();
                segment = arena.allocate(floats * Float.BYTES, 64);
            }
            return segment;
        }

        @Override
        public void close() {
            if (arena != null) {
                arena.close();
                arena = null;
                segment = MemorySegment.NULL;
            }
        }
    }
}
