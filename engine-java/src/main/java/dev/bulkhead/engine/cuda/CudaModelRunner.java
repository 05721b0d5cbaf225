package dev.bulkhead.engine.cuda;

import static dev.bulkhead.ffi.CudaDataType.BF16;
import static dev.bulkhead.ffi.CudaDataType.F32;

import dev.bulkhead.engine.cuda.StepPlan.Section;
import dev.bulkhead.engine.runner.BatchInput;
import dev.bulkhead.engine.runner.CpuRunnerOptions;
import dev.bulkhead.engine.runner.ModelRunner;
import dev.bulkhead.ffi.CublasHandle;
import dev.bulkhead.ffi.CudaContext;
import dev.bulkhead.ffi.CudaDriver;
import dev.bulkhead.ffi.CudaMemory;
import dev.bulkhead.ffi.DeviceBuffer;
import dev.bulkhead.ffi.DevicePtr;
import dev.bulkhead.kernels.Kernel;
import dev.bulkhead.kernels.KernelModule;
import dev.bulkhead.model.arch.ModelWeights;
import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.config.RopeStyle;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The CUDA backend's forward pass: the CPU runner's ragged step with bf16 weights, GEMMs on cuBLAS (bf16 in,
 * fp32 compute and output), an fp32 residual stream, a bf16 paged KV cache and the kernels of
 * {@code bulkhead.fatbin}. One context, one stream and every buffer are made at load and freed by
 * {@link #close()}; a step uploads its indices in one copy, launches per layer, and copies back only the
 * requested logit rows. Logits go back to the host and the engine samples there (device sampling kernels
 * exist, see {@link #greedy}, but the engine does not use them yet).
 */
public final class CudaModelRunner implements ModelRunner {

    private final ModelConfig c;
    private final CpuRunnerOptions options;
    private final CudaContext ctx;
    private final CudaOps ops;
    private final CublasHandle blas;
    private final CudaWeights w;
    private final CudaOps.AttentionShape shape;
    private final int rotDim;
    private final int partitionSize;
    private final StepPlan plan;
    private final int maxLogitRows;

    private final DeviceBuffer[] kCache;  // (layer) -> (numBlocks * blockSize, numKvHeads, headDim) bf16
    private final DeviceBuffer[] vCache;  // (layer) -> (numBlocks * blockSize, numKvHeads, headDim) bf16
    private final DevicePtr invFreq;      // (rotDim / 2) f32
    private final DevicePtr x;            // (tokens, hidden) f32 residual stream
    private final DevicePtr xb;           // (tokens, hidden) bf16 normed input of a projection
    private final DevicePtr qkv;          // (tokens, qDim + 2 kvDim) f32
    private final DevicePtr q;            // (tokens, qDim) f32 after RoPE
    private final DevicePtr att;          // (tokens, qDim) bf16 attention output
    private final DevicePtr proj;         // (tokens, hidden) f32 output of o_proj and down_proj
    private final DevicePtr gateUp;       // (tokens, 2 ffn) f32
    private final DevicePtr h;            // (tokens, ffn) bf16 silu(gate) * up
    private final DevicePtr partOut;      // (decode queries, heads, partitions, headDim) f32
    private final DevicePtr partMax;      // (decode queries, heads, partitions) f32
    private final DevicePtr partSum;      // (decode queries, heads, partitions) f32
    private final DevicePtr logitIn;      // (logit rows, hidden) bf16
    private final DevicePtr logitsDev;    // (logit rows, vocab) f32
    private final DevicePtr idsOut;       // (logit rows) int greedy ids
    private final DeviceBuffer intsDev;   // the step's packed indices (StepPlan layout)
    private final MemorySegment intsHost; // pinned, same layout
    private final MemorySegment logitsHost; // pinned (logit rows, vocab) f32
    private float[] logits;               // (logit rows, vocab) returned to the caller

    /** Loads {@code weights} onto device {@code ordinal}, sized by {@code options} (threads are ignored). */
    public CudaModelRunner(ModelWeights weights, CpuRunnerOptions options, int ordinal) {
        this.c = weights.config();
        this.options = options;
        if (c.headDim() > Kernel.MAX_HEAD_DIM) {
            throw new IllegalArgumentException("headDim " + c.headDim() + " is above the kernels' " + Kernel.MAX_HEAD_DIM);
        }
        this.ctx = CudaContext.open(ordinal);
        try {
            KernelModule module = KernelModule.load(ctx);
            int prefillSmem = Kernel.prefillSharedBytes(c.headDim());
            if (prefillSmem > 48 * 1024) {
                module.allowSharedMemory(Kernel.PAGED_ATTENTION_PREFILL, prefillSmem);
            }
            var stream = ctx.createStream();
            this.ops = new CudaOps(module, stream);
            this.blas = ctx.cublas(stream);
            this.w = CudaWeights.upload(ctx, weights);
            int bs = options.blockSize();
            int maxPositions = Math.min(options.numBlocks() * bs, c.maxPositionEmbeddings());
            this.shape = new CudaOps.AttentionShape(c.numHeads(), c.numKvHeads(), c.headDim(), bs, c.slidingWindow(),
                    (float) (1.0 / Math.sqrt(c.headDim())));
            long slots = (long) options.numBlocks() * bs;
            this.kCache = new DeviceBuffer[c.numLayers()];
            this.vCache = new DeviceBuffer[c.numLayers()];
            for (int l = 0; l < c.numLayers(); l++) {
                kCache[l] = ctx.alloc(slots * c.kvDim() * 2);
                vCache[l] = ctx.alloc(slots * c.kvDim() * 2);
            }
            double[] freqs = c.ropeScaling().inverseFrequencies(c.ropeTheta(), c.headDim());
            this.rotDim = 2 * freqs.length;
            this.invFreq = uploadFloats(freqs);
            int t = options.maxBatchTokens();
            this.partitionSize = Math.max(256, ((maxPositions + 63) / 64 + 31) / 32 * 32);
            int maxPartitions = (maxPositions + partitionSize - 1) / partitionSize;
            int maxQueries = Math.min(t, 256);
            this.maxLogitRows = Math.min(t, 256);
            this.x = f32(t, c.hiddenSize());
            this.xb = bf16(t, c.hiddenSize());
            this.qkv = f32(t, c.qDim() + 2L * c.kvDim());
            this.q = f32(t, c.qDim());
            this.att = bf16(t, c.qDim());
            this.proj = f32(t, c.hiddenSize());
            this.gateUp = f32(t, 2L * c.intermediateSize());
            this.h = bf16(t, c.intermediateSize());
            long parts = (long) maxQueries * c.numHeads() * maxPartitions;
            this.partOut = f32(parts, c.headDim());
            this.partMax = f32(parts, 1);
            this.partSum = f32(parts, 1);
            this.logitIn = bf16(maxLogitRows, c.hiddenSize());
            this.logitsDev = f32(maxLogitRows, c.vocabSize());
            this.idsOut = f32(maxLogitRows, 1);
            int maxBlocksPerSeq = (maxPositions + bs - 1) / bs;
            long ints = StepPlan.intCount(t, maxBlocksPerSeq);
            this.intsDev = ctx.alloc(ints * 4);
            this.intsHost = ctx.pinned(ints * 4);
            this.plan = new StepPlan(t, maxBlocksPerSeq, bs, options.numBlocks(), c.vocabSize(), maxPositions,
                    maxQueries, maxLogitRows, partitionSize, intsHost);
            this.logitsHost = ctx.pinned(4L * maxLogitRows * c.vocabSize());
            this.logits = new float[c.vocabSize()];
            ctx.synchronize();
        } catch (RuntimeException e) {
            ctx.close();
            throw e;
        }
    }

    private DevicePtr f32(long rows, long cols) {
        return ctx.alloc(4 * rows * cols).ptr();
    }

    private DevicePtr bf16(long rows, long cols) {
        return ctx.alloc(2 * rows * cols).ptr();
    }

    private DevicePtr uploadFloats(double[] values) {
        MemorySegment host = ctx.arena().allocate(4L * values.length, 4);
        for (int i = 0; i < values.length; i++) {
            host.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) values[i]);
        }
        DevicePtr p = ctx.alloc(host.byteSize()).ptr();
        CudaMemory.copyHtoD(p, host, host.byteSize());
        return p;
    }

    private DevicePtr ints(Section s) {
        return intsDev.at(plan.byteOffset(s));
    }

    @Override
    public float[] forward(BatchInput b) {
        int rows = run(b);
        int vocab = c.vocabSize();
        if (logits.length < rows * vocab) {
            // NOTE: grows once to the largest number of rows asked for, then stays (as the CPU runner).
            logits = new float[rows * vocab];
        }
        if (rows > 0) {
            CudaMemory.copyDtoHAsync(logitsHost, logitsDev, 4L * rows * vocab, ops.stream());
            CudaDriver.streamSynchronize(ops.stream());
            MemorySegment.copy(logitsHost, ValueLayout.JAVA_FLOAT, 0, logits, 0, rows * vocab);
        }
        return logits;
    }

    /** As {@link #forward} but returns the argmax id of each logit row, computed on the device. */
    public int[] greedy(BatchInput b) {
        int rows = run(b);
        if (rows == 0) {
            return new int[0];
        }
        ops.argmaxRows(idsOut, logitsDev, rows, c.vocabSize());
        CudaMemory.copyDtoHAsync(logitsHost, idsOut, 4L * rows, ops.stream());
        CudaDriver.streamSynchronize(ops.stream());
        int[] ids = new int[rows];
        MemorySegment.copy(logitsHost, ValueLayout.JAVA_INT, 0, ids, 0, rows);
        return ids;
    }

    /** Uploads the step, runs every layer and the LM head for the logit rows; returns the row count. */
    private int run(BatchInput b) {
        ctx.makeCurrent();
        plan.build(b);
        int n = plan.numTokens();
        int hidden = c.hiddenSize();
        float eps = c.rmsNormEps();
        CudaMemory.copyHtoDAsync(intsDev.ptr(), intsHost, plan.usedBytes(), ops.stream());
        ops.embeddingGather(x, w.embedding(), ints(Section.IDS), n, hidden);
        for (int l = 0; l < c.numLayers(); l++) {
            CudaWeights.Layer lw = w.layers().get(l);
            // NOTE: the previous layer's FFN output joins the residual stream in the same kernel as this norm.
            ops.fusedAddRmsNorm(xb, x, l == 0 ? DevicePtr.NULL : proj, lw.inputNorm(), n, hidden, eps);
            blas.linear(xb, BF16, lw.wqkv(), BF16, qkv, F32, n, c.qDim() + 2 * c.kvDim(), hidden, 0f);
            ops.ropeQkvWrite(q, kCache[l].ptr(), vCache[l].ptr(), qkv, lw.qkvBias(), lw.qNorm(), lw.kNorm(), invFreq,
                    ints(Section.POSITIONS), ints(Section.SLOTS), n, shape, rotDim, c.ropeStyle() == RopeStyle.NEOX, eps);
            attention(l);
            blas.linear(att, BF16, lw.wo(), BF16, proj, F32, n, hidden, c.qDim(), 0f);
            ops.fusedAddRmsNorm(xb, x, proj, lw.postNorm(), n, hidden, eps);
            blas.linear(xb, BF16, lw.wGateUp(), BF16, gateUp, F32, n, 2 * c.intermediateSize(), hidden, 0f);
            ops.siluMul(h, gateUp, n, c.intermediateSize());
            blas.linear(h, BF16, lw.wDown(), BF16, proj, F32, n, hidden, c.intermediateSize(), 0f);
        }
        // NOTE: adds the last FFN output to x (the normed copy in xb is not used); then norms only the logit rows.
        ops.fusedAddRmsNorm(xb, x, proj, w.finalNorm(), n, hidden, eps);
        int rows = plan.numLogitRows();
        if (rows > 0) {
            ops.rmsNormRows(logitIn, x, ints(Section.LOGIT_ROWS), w.finalNorm(), rows, hidden, eps);
            blas.linear(logitIn, BF16, w.lmHead(), BF16, logitsDev, F32, rows, c.vocabSize(), hidden, 0f);
        }
        return rows;
    }

    /** Decode tokens through the split-K kernel, every other token through the tiled prefill kernel. */
    private void attention(int l) {
        DevicePtr kc = kCache[l].ptr();
        DevicePtr vc = vCache[l].ptr();
        if (plan.numQueries() > 0) {
            ops.decodeAttention(att, partOut, partMax, partSum, q, kc, vc, ints(Section.QUERY_TOKENS),
                    ints(Section.TOKEN_SEQ), ints(Section.POSITIONS), ints(Section.BLOCK_TABLES),
                    plan.maxBlocksPerSeq(), plan.numQueries(), shape, partitionSize, plan.maxPartitions());
        }
        if (plan.numTiles() > 0) {
            ops.prefillAttention(att, q, kc, vc, ints(Section.TILE_START), ints(Section.TILE_LEN),
                    ints(Section.TOKEN_SEQ), ints(Section.POSITIONS), ints(Section.BLOCK_TABLES),
                    plan.maxBlocksPerSeq(), plan.numTiles(), shape);
        }
    }

    @Override
    public ModelConfig config() {
        return c;
    }

    @Override
    public int blockSize() {
        return options.blockSize();
    }

    @Override
    public int numBlocks() {
        return options.numBlocks();
    }

    @Override
    public int maxBatchTokens() {
        return options.maxBatchTokens();
    }

    /** Device name and memory, for logs. */
    public String describe() {
        CudaMemory.Info m = ctx.memoryInfo();
        return ctx.deviceName() + " sm_" + ctx.computeCapability() + ", " + (m.total() - m.free()) / (1 << 20)
                + " MiB in use of " + m.total() / (1 << 20);
    }

    @Override
    public void close() {
        ctx.close();
    }
}
