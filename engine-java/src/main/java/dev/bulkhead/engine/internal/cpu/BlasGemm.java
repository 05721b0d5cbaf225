package dev.bulkhead.engine.internal.cpu;

import dev.bulkhead.engine.EngineOptions.CpuGemm;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The optional BLAS path of the CPU backend ({@link CpuGemm#OPENBLAS}): an F32 or BF16 product of at
 * least {@code minTokens} tokens becomes one {@code cblas_sgemm} per matrix. F32 weights are passed in place from
 * their mapped segment; BF16 weights (Debian's OpenBLAS has no {@code cblas_sbgemm}) are widened to float tiles
 * of about {@value #TILE_BYTES} bytes on the pool, and each tile is one sgemm.
 *
 * <p>NOTE: OpenBLAS runs its own threads (set to the engine's count at creation), so a product is not also
 * split over the {@link CpuThreadPool}; the pool only widens BF16 tiles. The thread count is process wide:
 * engines with different counts in one JVM share the last one set.
 *
 * <p>Not thread safe: one instance per runner, called from its step thread. Owns its native buffers.
 */
public final class BlasGemm implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BlasGemm.class);

    /** Float tile a BF16 matrix is widened into per sgemm: big enough for BLAS to block well. */
    static final long TILE_BYTES = 4L << 20;

    private final OpenBlas blas;
    private final int minTokens;
    private final boolean heapAccess;
    private final Buffer a = new Buffer();    // (tokens, cols) activations, when not passed in place
    private final Buffer c = new Buffer();    // (tokens, rows) results, when not written in place
    private final Buffer tile = new Buffer(); // (tile rows, cols) widened BF16 weights

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
        LOG.info("cpu gemm: OpenBLAS {} ({}), {} threads, F32/BF16 products of >= {} tokens, activations {}, "
                        + "BF16 {}; batch invariance off for those steps", blas.file(), blas.config(), threads,
                gemm.minTokens(), gemm.heapAccess() ? "in place (critical downcall)" : "copied to native buffers",
                blas.hasSbgemm() ? "widened to float tiles (cblas_sbgemm present but unused)" : "widened to float tiles");
        return new BlasGemm(blas, gemm.minTokens(), gemm.heapAccess());
    }

    /** Whether {@link #multiply} takes {@code w} at {@code tokens} tokens. */
    public boolean handles(WeightMatrix w, int tokens) {
        return tokens >= minTokens && (w instanceof F32Matrix || w instanceof Bf16Matrix);
    }

    /**
     * {@code outs[m] = x W_m^T} for every matrix (which all share {@code x}'s columns and must all be
     * {@link #handles handled}).
     */
    public void multiply(CpuThreadPool pool, WeightMatrix[] ws, float[] x, int tokens, float[][] outs) {
        int cols = ws[0].cols();
        MemorySegment in;
        if (heapAccess) {
            in = MemorySegment.ofArray(x);
        } else {
            in = a.ensure((long) tokens * cols);
            MemorySegment.copy(x, 0, in, ValueLayout.JAVA_FLOAT, 0, tokens * cols);
        }
        for (int m = 0; m < ws.length; m++) {
            SegmentMatrix w = (SegmentMatrix) ws[m];
            float[] out = outs[m];
            MemorySegment result = heapAccess ? MemorySegment.ofArray(out) : c.ensure((long) tokens * w.rows);
            if (w instanceof Bf16Matrix b) {
                multiplyWidened(pool, b, in, tokens, result);
            } else {
                blas.gemmTransposedB(tokens, w.rows, w.cols, in, cols, w.data, w.cols, result, w.rows);
            }
            if (!heapAccess) {
                MemorySegment.copy(result, ValueLayout.JAVA_FLOAT, 0, out, 0, tokens * w.rows);
            }
        }
    }

    /** As {@link #multiply(CpuThreadPool, WeightMatrix[], float[], int, float[][])} for one matrix. */
    public void multiply(CpuThreadPool pool, WeightMatrix w, float[] x, int tokens, float[] out) {
        multiply(pool, new WeightMatrix[] {w}, x, tokens, new float[][] {out});
    }

    private void multiplyWidened(CpuThreadPool pool, Bf16Matrix w, MemorySegment in, int tokens, MemorySegment out) {
        int cols = w.cols;
        int tileRows = (int) Math.max(WeightMatrices.ROW_GRAIN,
                TILE_BYTES / (4L * cols) / WeightMatrices.ROW_GRAIN * WeightMatrices.ROW_GRAIN);
        MemorySegment t = tile.ensure((long) Math.min(tileRows, w.rows) * cols);
        for (int r0 = 0; r0 < w.rows; r0 += tileRows) {
            int base = r0;
            int n = Math.min(tileRows, w.rows - r0);
            pool.parallelFor(n, WeightMatrices.ROW_GRAIN,
                    (start, end) -> w.widenRows(base + start, base + end, t, 4L * start * cols));
            blas.gemmTransposedB(tokens, n, cols, in, cols, t, cols, out.asSlice(4L * r0), w.rows);
        }
    }

    @Override
    public void close() {
        a.close();
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
