package dev.bulkhead.engine.internal.cpu;

import dev.bulkhead.engine.EngineOptions.CpuGemm;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The optional BLAS path of the CPU backend ({@link CpuGemm#OPENBLAS}): a product of at least {@code minTokens}
 * tokens is split by rows over the engine's {@link CpuThreadPool}, and each row range is one single-threaded
 * {@code cblas_sgemm}. F32 weights are passed in place from their mapped segment. Every other type is widened,
 * a slice of about {@value #SLICE_BYTES} bytes at a time, into a float tile of the worker's own, which its
 * sgemm then reads from L2: BF16 and F16 in column order (Debian's OpenBLAS has no {@code cblas_sbgemm}), the
 * block-quantized types in their kernels' lane order ({@link QuantizedMatrix#widenRowsLaneOrdered}),
 * multiplied by a copy of the activations in the same order. This is what ggml's BLAS backend does for big
 * batches too: dequantize, then float GEMM. The quantized types then multiply float activations, not the 8-bit
 * ones of their Java kernels.
 *
 * <p>NOTE: OpenBLAS is set to one thread (process wide, as its FAQ asks of callers that are multi-threaded
 * themselves). Widening on the pool and then calling a two-thread sgemm was slower: OpenBLAS's threads spin
 * after each call and the pool's after each task, so each phase ran beside the other's spinners (Q4_0, 2048 x
 * 768, 128 tokens, 2 threads: 4.5-4.9 ms against 4.0-4.2 for slices widened and multiplied by the same worker;
 * F32 in place alike either way). It also keeps engines with different thread counts in one JVM from fighting
 * over OpenBLAS's count. An application that sets OpenBLAS's count higher afterwards makes our concurrent calls
 * rely on OpenBLAS's own locking between callers (not tested here).
 *
 * <p>Not thread safe: one instance per runner, called from its step thread. Owns its native buffers.
 */
public final class BlasGemm implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BlasGemm.class);

    /** Bytes of weights widened per sgemm: a slice that stays in a worker's L2 until its sgemm reads it. */
    static final long SLICE_BYTES = 512L << 10;

    private final OpenBlas blas;
    private final int minTokens;
    private final boolean heapAccess;
    private final Buffer a = new Buffer();    // (tokens, cols) activations, when not passed in place
    private final Buffer al = new Buffer();   // the same in lane order, for quantized weights
    private final Buffer c = new Buffer();    // each matrix's (tokens, rows) results, when not written in place
    /** One widening tile per worker that has needed one, taken and given back around each slice. */
    private final ConcurrentLinkedQueue<MemorySegment> tiles = new ConcurrentLinkedQueue<>();
    private final Arena tileArena = Arena.ofShared();

    private BlasGemm(OpenBlas blas, int minTokens, boolean heapAccess) {
        this.blas = blas;
        this.minTokens = minTokens;
        this.heapAccess = heapAccess;
    }

    /**
     * The BLAS path {@code gemm} asks for, or null for {@link CpuGemm#JAVA}.
     *
     * @throws CpuGemmUnavailableException when OpenBLAS is asked for but cannot be loaded
     */
    public static BlasGemm create(CpuGemmSettings gemm) {
        if (gemm.kind() == CpuGemm.JAVA) {
            return null;
        }
        OpenBlas blas = OpenBlas.load(gemm.library(), gemm.heapAccess());
        blas.setNumThreads(1);
        LOG.info("cpu gemm: OpenBLAS {} ({}), one thread per call, rows split over the engine's threads, products "
                        + "of >= {} tokens, activations {}, non-F32 weights widened to float tiles{}; batch invariance "
                        + "off for those steps", blas.file(), blas.config(), gemm.minTokens(),
                gemm.heapAccess() ? "in place (critical downcall)" : "copied to native buffers",
                blas.hasSbgemm() ? " (cblas_sbgemm present but unused)" : "");
        return new BlasGemm(blas, gemm.minTokens(), gemm.heapAccess());
    }

    /** Whether {@link #multiply} takes {@code w} at {@code tokens} tokens: from {@code minTokens}, any type. */
    public boolean handles(WeightMatrix w, int tokens) {
        return tokens >= minTokens;
    }

    /**
     * {@code outs[m] = x W_m^T} for every matrix (which all share {@code x}'s columns and must all be
     * {@link #handles handled}), the rows of all of them split over {@code pool} as {@link MatrixGroup} splits
     * them for the Java kernels.
     */
    public void multiply(CpuThreadPool pool, WeightMatrix[] ws, float[] x, int tokens, float[][] outs) {
        int cols = ws[0].cols();
        boolean anyQuantized = false;
        boolean anyOther = false;
        long[] resultOffset = new long[ws.length + 1];
        for (int m = 0; m < ws.length; m++) {
            anyQuantized |= ws[m] instanceof QuantizedMatrix;
            anyOther |= !(ws[m] instanceof QuantizedMatrix);
            resultOffset[m + 1] = resultOffset[m] + 4L * tokens * ws[m].rows();
        }
        MemorySegment in = anyOther ? activations(a, x, tokens * cols) : null;
        MemorySegment inLaneOrdered = null;
        if (anyQuantized) {
            float[] ordered = new float[tokens * cols];
            IntDot.laneOrder(x, 0, ordered, 0, tokens * cols);
            inLaneOrdered = activations(al, ordered, tokens * cols);
        }
        MemorySegment[] results = new MemorySegment[ws.length];
        MemorySegment all = heapAccess ? null : c.ensure(resultOffset[ws.length] / Float.BYTES);
        for (int m = 0; m < ws.length; m++) {
            results[m] = heapAccess ? MemorySegment.ofArray(outs[m])
                    : all.asSlice(resultOffset[m], resultOffset[m + 1] - resultOffset[m]);
        }
        MemorySegment natural = in;
        MemorySegment laneOrdered = inLaneOrdered;
        new RowShares(ws).forEach(pool, (m, r0, r1) -> multiplyRows(ws[m],
                ws[m] instanceof QuantizedMatrix ? laneOrdered : natural, tokens, results[m], r0, r1));
        if (!heapAccess) {
            for (int m = 0; m < ws.length; m++) {
                MemorySegment.copy(results[m], ValueLayout.JAVA_FLOAT, 0, outs[m], 0, tokens * ws[m].rows());
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

    /** Rows [r0, r1) of {@code w} times every token, on the calling worker, into columns [r0, r1) of {@code out}. */
    private void multiplyRows(WeightMatrix w, MemorySegment in, int tokens, MemorySegment out, int r0, int r1) {
        int rows = w.rows();
        int cols = w.cols();
        if (w instanceof F32Matrix f) {
            blas.gemmTransposedB(tokens, r1 - r0, cols, in, cols, f.data.asSlice(f.rowOffset(r0)), cols,
                    out.asSlice(4L * r0), rows);
            return;
        }
        int sliceRows = (int) Math.max(1, SLICE_BYTES / (4L * cols));
        long tileBytes = 4L * sliceRows * cols;
        MemorySegment tile = tiles.poll();
        if (tile == null || tile.byteSize() < tileBytes) {
            // NOTE: a tile too small (rows wider than SLICE_BYTES) is dropped; the arena frees it at close.
            tile = tileArena.allocate(Math.max(SLICE_BYTES, tileBytes), 64);
        }
        try {
            for (int r = r0; r < r1; r += sliceRows) {
                int n = Math.min(sliceRows, r1 - r);
                switch (w) {
                    case QuantizedMatrix q -> q.widenRowsLaneOrdered(r, r + n, tile, 0);
                    case Bf16Matrix b -> b.widenRows(r, r + n, tile, 0);
                    default -> widenByRow(w, r, r + n, tile);
                }
                blas.gemmTransposedB(tokens, n, cols, in, cols, tile, cols, out.asSlice(4L * r), rows);
            }
        } finally {
            tiles.add(tile);
        }
    }

    /** The rows of a type with no bulk widener of its own (F16): its {@link WeightMatrix#dequantizeRow}. */
    private static void widenByRow(WeightMatrix w, int r0, int r1, MemorySegment dst) {
        int cols = w.cols();
        float[] row = new float[cols];
        for (int r = r0; r < r1; r++) {
            w.dequantizeRow(r, row, 0);
            MemorySegment.copy(row, 0, dst, ValueLayout.JAVA_FLOAT, 4L * (r - r0) * cols, cols);
        }
    }

    @Override
    public void close() {
        a.close();
        al.close();
        c.close();
        tileArena.close();
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
