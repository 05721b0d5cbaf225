package dev.bulkhead.engine.internal.cuda;

import dev.bulkhead.ffi.CudaDriver;
import dev.bulkhead.ffi.DevicePtr;
import dev.bulkhead.ffi.Handles.Dim3;
import dev.bulkhead.ffi.Handles.Stream;
import dev.bulkhead.ffi.KernelArgs;
import dev.bulkhead.kernels.Kernel;
import dev.bulkhead.kernels.KernelModule;
import java.util.EnumMap;
import java.util.Map;

/**
 * Typed launches of every kernel on one stream: argument packing reused per kernel (nothing allocated per
 * launch), grid and block shapes as each kernel's comment in {@code src/main/cuda} requires. Shapes and
 * dtypes of the arguments are documented on the kernels; this class only fixes the launch geometry.
 */
public final class CudaOps {

    private static final Dim3 B128 = Dim3.of(128);
    private static final Dim3 B256 = Dim3.of(256);

    private final KernelModule module;
    private final Stream stream;
    private final Map<Kernel, KernelArgs> args = new EnumMap<>(Kernel.class);

    public CudaOps(KernelModule module, Stream stream) {
        this.module = module;
        this.stream = stream;
        for (Kernel k : Kernel.values()) {
            args.put(k, module.args(k));
        }
    }

    public Stream stream() {
        return stream;
    }

    private KernelArgs a(Kernel k) {
        return args.get(k);
    }

    private void launch(Kernel k, Dim3 grid, Dim3 block, int sharedBytes) {
        CudaDriver.launch(module.function(k), grid, block, sharedBytes, stream, a(k));
    }

    public void embeddingGather(DevicePtr out, DevicePtr table, DevicePtr ids, int n, int hidden) {
        a(Kernel.EMBEDDING_GATHER).ptr(0, out).ptr(1, table).ptr(2, ids).i32(3, n).i32(4, hidden);
        launch(Kernel.EMBEDDING_GATHER, Dim3.of(n), B256, 0);
    }

    /** Token {@code feed[2i]} of {@code ids} takes the id at row {@code feed[2i + 1]} of {@code sampled}; n pairs. */
    public void feedSampledIds(DevicePtr ids, DevicePtr sampled, DevicePtr feed, int n) {
        a(Kernel.FEED_SAMPLED_IDS).ptr(0, ids).ptr(1, sampled).ptr(2, feed).i32(3, n);
        launch(Kernel.FEED_SAMPLED_IDS, Dim3.of((n + 127) / 128), B128, 0);
    }

    /** {@code x += residual} (null: skipped), {@code out = bf16(rmsnorm(x) * weight)}. */
    public void fusedAddRmsNorm(DevicePtr out, DevicePtr x, DevicePtr residual, DevicePtr weight, int n, int hidden,
                                float eps) {
        a(Kernel.FUSED_ADD_RMSNORM).ptr(0, out).ptr(1, x).ptr(2, residual).ptr(3, weight).i32(4, n).i32(5, hidden)
                .f32(6, eps);
        launch(Kernel.FUSED_ADD_RMSNORM, Dim3.of(n), B256, 0);
    }

    public void rmsNormRows(DevicePtr out, DevicePtr x, DevicePtr rows, DevicePtr weight, int nRows, int hidden,
                            float eps) {
        a(Kernel.RMSNORM_ROWS).ptr(0, out).ptr(1, x).ptr(2, rows).ptr(3, weight).i32(4, nRows).i32(5, hidden)
                .f32(6, eps);
        launch(Kernel.RMSNORM_ROWS, Dim3.of(nRows), B256, 0);
    }

    /** Geometry of one model's attention, fixed at load. */
    public record AttentionShape(int numHeads, int numKvHeads, int headDim, int blockSize, int slidingWindow,
                                 float scale) {
    }

    public void ropeQkvWrite(DevicePtr qOut, DevicePtr kCache, DevicePtr vCache, DevicePtr qkv, DevicePtr bias,
                             DevicePtr qNorm, DevicePtr kNorm, DevicePtr invFreq, DevicePtr positions,
                             DevicePtr slots, int n, AttentionShape s, int rotDim, boolean neox, float eps) {
        a(Kernel.ROPE_QKV_WRITE).ptr(0, qOut).ptr(1, kCache).ptr(2, vCache).ptr(3, qkv).ptr(4, bias).ptr(5, qNorm)
                .ptr(6, kNorm).ptr(7, invFreq).ptr(8, positions).ptr(9, slots).i32(10, n).i32(11, s.numHeads())
                .i32(12, s.numKvHeads()).i32(13, s.headDim()).i32(14, rotDim).i32(15, neox ? 1 : 0).f32(16, eps);
        launch(Kernel.ROPE_QKV_WRITE, Dim3.of(n, s.numHeads() + s.numKvHeads()), B128, 0);
    }

    /** Split-K decode attention then the partition merge, writing bf16 rows of {@code out}. */
    public void decodeAttention(DevicePtr out, DevicePtr partOut, DevicePtr partMax, DevicePtr partSum, DevicePtr q,
                                DevicePtr kCache, DevicePtr vCache, DevicePtr queryTokens, DevicePtr tokenSeq,
                                DevicePtr positions, DevicePtr blockTables, int maxBlocksPerSeq, int nQueries,
                                AttentionShape s, DecodeSplit split) {
        int partitionSize = split.partitionSize();
        int maxPartitions = split.partitions();
        a(Kernel.PAGED_ATTENTION_DECODE).ptr(0, partOut).ptr(1, partMax).ptr(2, partSum).ptr(3, q).ptr(4, kCache)
                .ptr(5, vCache).ptr(6, queryTokens).ptr(7, tokenSeq).ptr(8, positions).ptr(9, blockTables)
                .i32(10, maxBlocksPerSeq).i32(11, nQueries).i32(12, s.numHeads()).i32(13, s.numKvHeads())
                .i32(14, s.headDim()).i32(15, s.blockSize()).i32(16, partitionSize).i32(17, s.slidingWindow())
                .f32(18, s.scale());
        launch(Kernel.PAGED_ATTENTION_DECODE, new Dim3(nQueries, s.numHeads(), maxPartitions), B128,
                split.sharedBytes(s.headDim()));
        a(Kernel.PAGED_ATTENTION_REDUCE).ptr(0, out).ptr(1, partOut).ptr(2, partMax).ptr(3, partSum)
                .ptr(4, queryTokens).i32(5, nQueries).i32(6, s.numHeads()).i32(7, s.headDim()).i32(8, maxPartitions);
        launch(Kernel.PAGED_ATTENTION_REDUCE, Dim3.of(nQueries, s.numHeads()), B128, 0);
    }

    public void prefillAttention(DevicePtr out, DevicePtr q, DevicePtr kCache, DevicePtr vCache, DevicePtr tileStart,
                                 DevicePtr tileLen, DevicePtr tokenSeq, DevicePtr positions, DevicePtr blockTables,
                                 int maxBlocksPerSeq, int nTiles, AttentionShape s) {
        a(Kernel.PAGED_ATTENTION_PREFILL).ptr(0, out).ptr(1, q).ptr(2, kCache).ptr(3, vCache).ptr(4, tileStart)
                .ptr(5, tileLen).ptr(6, tokenSeq).ptr(7, positions).ptr(8, blockTables).i32(9, maxBlocksPerSeq)
                .i32(10, nTiles).i32(11, s.numHeads()).i32(12, s.numKvHeads()).i32(13, s.headDim())
                .i32(14, s.blockSize()).i32(15, s.slidingWindow()).f32(16, s.scale());
        launch(Kernel.PAGED_ATTENTION_PREFILL, Dim3.of(nTiles, s.numHeads()), B256,
                Kernel.prefillSharedBytes(s.headDim()));
    }

    /** Tensor-core prefill: tiles of up to 16 rows, {@code headsPerBlock} query heads of a GQA group per block. */
    public void prefillAttentionTc(DevicePtr out, DevicePtr q, DevicePtr kCache, DevicePtr vCache, DevicePtr tileStart,
                                   DevicePtr tileLen, DevicePtr tokenSeq, DevicePtr positions, DevicePtr blockTables,
                                   int maxBlocksPerSeq, int nTiles, AttentionShape s, int headsPerBlock) {
        a(Kernel.PAGED_ATTENTION_PREFILL_TC).ptr(0, out).ptr(1, q).ptr(2, kCache).ptr(3, vCache).ptr(4, tileStart)
                .ptr(5, tileLen).ptr(6, tokenSeq).ptr(7, positions).ptr(8, blockTables).i32(9, maxBlocksPerSeq)
                .i32(10, nTiles).i32(11, s.numHeads()).i32(12, s.numKvHeads()).i32(13, s.headDim())
                .i32(14, s.blockSize()).i32(15, s.slidingWindow()).f32(16, s.scale()).i32(17, headsPerBlock);
        int group = s.numHeads() / s.numKvHeads();
        launch(Kernel.PAGED_ATTENTION_PREFILL_TC,
                new Dim3(nTiles, s.numKvHeads(), (group + headsPerBlock - 1) / headsPerBlock), Dim3.of(32 * headsPerBlock),
                Kernel.prefillTcSharedBytes(s.headDim(), headsPerBlock));
    }

    public void siluMul(DevicePtr out, DevicePtr gateUp, int n, int ffn) {
        a(Kernel.SILU_MUL).ptr(0, out).ptr(1, gateUp).i32(2, n).i32(3, ffn);
        launch(Kernel.SILU_MUL, Dim3.of((ffn + 255) / 256, n), B256, 0);
    }

    public void argmaxRows(DevicePtr out, DevicePtr logits, int rows, int vocab) {
        a(Kernel.ARGMAX_ROWS).ptr(0, out).ptr(1, logits).i32(2, rows).i32(3, vocab);
        launch(Kernel.ARGMAX_ROWS, Dim3.of(rows), B256, 0);
    }

    /** {@code bk_sample_rows} over {@code n} rows (the parameter arrays as the kernel documents them). */
    public void sampleRows(DevicePtr out, DevicePtr logits, DevicePtr rows, DevicePtr temperature, DevicePtr topK,
                           DevicePtr topP, DevicePtr minP, DevicePtr repetition, DevicePtr frequency, DevicePtr presence,
                           DevicePtr penaltyStart, DevicePtr penaltyIds, DevicePtr penaltyCounts, DevicePtr seeds,
                           DevicePtr steps, int n, int vocab) {
        a(Kernel.SAMPLE_ROWS).ptr(0, out).ptr(1, logits).ptr(2, rows).ptr(3, temperature).ptr(4, topK).ptr(5, topP)
                .ptr(6, minP).ptr(7, repetition).ptr(8, frequency).ptr(9, presence).ptr(10, penaltyStart)
                .ptr(11, penaltyIds).ptr(12, penaltyCounts).ptr(13, seeds).ptr(14, steps).i32(15, n).i32(16, vocab);
        launch(Kernel.SAMPLE_ROWS, Dim3.of(n), B256, 0);
    }

    /** One of the four {@code CONVERT_*} kernels over {@code n} elements. */
    public void convert(Kernel k, DevicePtr out, DevicePtr in, long n) {
        if (!k.name().startsWith("CONVERT_")) {
            throw new IllegalArgumentException(k + " is not a conversion kernel");
        }
        a(k).ptr(0, out).ptr(1, in).i64(2, n);
        launch(k, Dim3.of((int) Math.max(1, Math.min(4096, (n + 255) / 256))), B256, 0);
    }
}
