package dev.bulkhead.engine.internal.cuda;

import static dev.bulkhead.ffi.CudaDataType.BF16;
import static dev.bulkhead.ffi.CudaDataType.F32;

import dev.bulkhead.engine.internal.cuda.StepPlan.Section;
import dev.bulkhead.engine.internal.runner.BackendLostException;
import dev.bulkhead.engine.internal.runner.BatchInput;
import dev.bulkhead.engine.internal.runner.CpuRunnerOptions;
import dev.bulkhead.engine.internal.runner.DeviceSampler;
import dev.bulkhead.engine.internal.runner.ModelRunner;
import dev.bulkhead.engine.internal.runner.PipelinedSampler;
import dev.bulkhead.engine.internal.runner.SamplingRows;
import dev.bulkhead.ffi.CublasHandle;
import dev.bulkhead.ffi.CudaContext;
import dev.bulkhead.ffi.CudaDriver;
import dev.bulkhead.ffi.CudaException;
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
 * requested logit rows. As a {@link DeviceSampler} it samples the rows the engine marks for it with
 * {@code bk_sample_rows} and copies back only their ids; the other rows' logits (guided decoding, log-probabilities)
 * come back for the host sampler. As a {@link PipelinedSampler} it launches a step without waiting for it, decode
 * tokens fed on the device from the sampled ids of the step launched before ({@code bk_feed_sampled_ids}), and
 * brings the ids back through {@link LaunchedSteps}. A step's indices reach the device through {@link StepUpload}.
 */
public final class CudaModelRunner implements ModelRunner, PipelinedSampler {

    /** Logit rows one LM-head pass computes; more rows in a step go in passes of this many. */
    static final int LOGIT_ROWS_PER_PASS = 256;
    /** Shared memory a tensor-core prefill block may use: within what sm_80 (163 KiB) and sm_90 (227 KiB) allow. */
    private static final int TC_SHARED_LIMIT = 160 * 1024;
    /** Penalty entries (distinct prompt and output tokens of device rows) one LM-head pass may carry. */
    static final int PENALTY_ENTRIES_PER_PASS = 1 << 20;
    /** cuBLAS scratch (its default on Hopper), given up front so cuBLAS never allocates inside a graph capture. */
    private static final long CUBLAS_WORKSPACE_BYTES = 32L << 20;

    /** How steps whose every sequence decodes one token run. */
    public enum DecodeSteps {
        /** As their own launches, split-K partitions chosen per step from its contexts. */
        EAGER,
        /** Padded to a batch-size bucket and replayed from a CUDA graph captured for it (see {@link DecodeGraphs}). */
        GRAPHS,
        /** Padded and shaped as {@link #GRAPHS} but launched eagerly: what a replay must equal bit for bit (tests). */
        GRAPH_SHAPES_EAGER
    }

    private final ModelConfig c;
    private final CpuRunnerOptions options;
    private final CudaContext ctx;
    private final CudaOps ops;
    private final CublasHandle blas;
    private final CudaWeights w;
    private final CudaOps.AttentionShape shape;
    private final int rotDim;
    private final int multiprocessors;
    private final StepPlan plan;
    private final int maxDecodeQueries;
    private final int maxPositions;
    private final DecodeGraphs graphs;    // null when decode steps run EAGER
    private final int tcHeadsPerBlock;    // query heads per block of the tensor-core prefill; 0: the CUDA-core kernel

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
    private final DevicePtr partOut;      // (query-partition pairs, heads, headDim) f32
    private final DevicePtr partMax;      // (query-partition pairs, heads) f32
    private final DevicePtr partSum;      // (query-partition pairs, heads) f32
    private final DevicePtr logitIn;      // (LOGIT_ROWS_PER_PASS, hidden) bf16
    private final DevicePtr logitsDev;    // (LOGIT_ROWS_PER_PASS, vocab) f32
    private final DevicePtr idsOut;       // (tokens) int greedy or sampled ids; a launched step's feed reads them
    private final SamplingUpload sampling; // null when the engine samples every row on the host
    private final MemorySegment idsHost;  // pinned (LOGIT_ROWS_PER_PASS) ints: a pass's sampled ids
    private int[] sampledIds = new int[0]; // (logit rows) returned to the engine by forwardAndSample
    private final StepUpload inputs;      // the step's packed indices (StepPlan layout), pinned and on the device
    private final LaunchedSteps launched;  // null when the engine samples every row on the host
    private boolean idsFromLaunch;        // whether idsOut holds the last launched step's ids, by logit row
    private final MemorySegment logitsHost; // pinned (LOGIT_ROWS_PER_PASS, vocab) f32, or (tokens) ints
    private float[] logits;               // (logit rows, vocab) returned to the caller
    private BackendLostException lost;    // set once a sticky error poisoned the context

    /** Loads {@code weights} onto device {@code ordinal}, sized by {@code options}, with decode graphs. */
    public CudaModelRunner(ModelWeights weights, CpuRunnerOptions options, int ordinal) {
        this(weights, options, ordinal, DecodeSteps.GRAPHS);
    }

    /** Loads {@code weights} onto device {@code ordinal}, sized by {@code options}, sampling on the device. */
    public CudaModelRunner(ModelWeights weights, CpuRunnerOptions options, int ordinal, DecodeSteps decodeSteps) {
        this(weights, options, ordinal, decodeSteps, true);
    }

    /**
     * Loads {@code weights} onto device {@code ordinal}, sized by {@code options} (threads are ignored); with
     * {@code deviceSampling} false, {@link #samplesOnDevice()} says no and the engine samples every row on the host.
     */
    public CudaModelRunner(ModelWeights weights, CpuRunnerOptions options, int ordinal, DecodeSteps decodeSteps,
                           boolean deviceSampling) {
        this.c = weights.config();
        this.options = options;
        if (c.headDim() > Kernel.MAX_HEAD_DIM || c.headDim() % 8 != 0) {
            throw new IllegalArgumentException("headDim " + c.headDim() + " is not one the CUDA kernels take: a multiple of 8"
                    + " (their 16-byte K/V loads) up to " + Kernel.MAX_HEAD_DIM);
        }
        this.ctx = CudaContext.open(ordinal);
        try {
            KernelModule module = KernelModule.load(ctx);
            this.tcHeadsPerBlock = tensorCoreHeadsPerBlock(c);
            int prefillSmem = tcHeadsPerBlock > 0 ? Kernel.prefillTcSharedBytes(c.headDim(), tcHeadsPerBlock)
                    : Kernel.prefillSharedBytes(c.headDim());
            if (prefillSmem > 48 * 1024) {
                module.allowSharedMemory(tcHeadsPerBlock > 0 ? Kernel.PAGED_ATTENTION_PREFILL_TC
                        : Kernel.PAGED_ATTENTION_PREFILL, prefillSmem);
            }
            var stream = ctx.createStream();
            this.ops = new CudaOps(module, stream);
            this.blas = ctx.cublas(stream);
            blas.setWorkspace(ctx.alloc(CUBLAS_WORKSPACE_BYTES).ptr(), CUBLAS_WORKSPACE_BYTES);
            this.multiprocessors = ctx.multiprocessors();
            this.w = CudaWeights.upload(ctx, weights);
            int bs = options.blockSize();
            this.maxPositions = Math.min(options.numBlocks() * bs, c.maxPositionEmbeddings());
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
            this.maxDecodeQueries = Math.min(t, 256);
            this.x = f32(t, c.hiddenSize());
            this.xb = bf16(t, c.hiddenSize());
            this.qkv = f32(t, c.qDim() + 2L * c.kvDim());
            this.q = f32(t, c.qDim());
            this.att = bf16(t, c.qDim());
            this.proj = f32(t, c.hiddenSize());
            this.gateUp = f32(t, 2L * c.intermediateSize());
            this.h = bf16(t, c.intermediateSize());
            long pairs = DecodeSplit.maxPairs(maxDecodeQueries, c.numHeads(), maxPositions, c.headDim(), multiprocessors)
                    * c.numHeads();
            this.partOut = f32(pairs, c.headDim());
            this.partMax = f32(pairs, 1);
            this.partSum = f32(pairs, 1);
            int passRows = Math.min(t, LOGIT_ROWS_PER_PASS);
            this.logitIn = bf16(passRows, c.hiddenSize());
            this.logitsDev = f32(passRows, c.vocabSize());
            this.idsOut = f32(t, 1);
            this.sampling = deviceSampling ? new SamplingUpload(ctx, passRows, PENALTY_ENTRIES_PER_PASS) : null;
            this.idsHost = ctx.pinned(4L * passRows);
            int maxBlocksPerSeq = (maxPositions + bs - 1) / bs;
            this.plan = new StepPlan(t, maxBlocksPerSeq, bs, options.numBlocks(), c.vocabSize(), maxPositions,
                    maxDecodeQueries, tcHeadsPerBlock > 0 ? Kernel.PREFILL_TC_ROWS : Kernel.PREFILL_ROWS);
            this.inputs = new StepUpload(ctx, plan, StepPlan.intCount(t, maxBlocksPerSeq));
            this.launched = deviceSampling ? new LaunchedSteps(ctx, passRows) : null;
            this.graphs = decodeSteps == DecodeSteps.EAGER ? null : new DecodeGraphs(stream,
                    Math.min(maxDecodeQueries, LOGIT_ROWS_PER_PASS), decodeSteps == DecodeSteps.GRAPHS);
            this.logitsHost = ctx.pinned(4L * Math.max((long) passRows * c.vocabSize(), t));
            this.logits = new float[c.vocabSize()];
            ctx.synchronize();
        } catch (RuntimeException e) {
            ctx.close();
            throw e;
        }
    }

    /**
     * How many query heads of a GQA group one tensor-core prefill block takes (sharing each K/V tile), or 0 when
     * the head size does not suit wmma's 16x16x16 tiles and the CUDA-core kernel runs prefill instead.
     */
    static int tensorCoreHeadsPerBlock(ModelConfig c) {
        if (c.headDim() % 16 != 0 || c.headDim() > Kernel.MAX_HEAD_DIM) {
            return 0;
        }
        int perHead = Kernel.prefillTcSharedBytes(c.headDim(), 1) - Kernel.prefillTcSharedBytes(c.headDim(), 0);
        int fit = (TC_SHARED_LIMIT - Kernel.prefillTcSharedBytes(c.headDim(), 0)) / perHead;
        return Math.max(1, Math.min(Math.min(c.numHeads() / c.numKvHeads(), fit), 32));
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
        return inputs.at(s);
    }

    @Override
    public float[] forward(BatchInput b) {
        try {
            return graphable(b) ? decodeGraph(b, DecodeGraphs.Output.LOGITS) : logits(layers(b));
        } catch (CudaException e) {
            throw lost(e);
        }
    }

    private float[] logits(int rows) {
        int vocab = c.vocabSize();
        if (logits.length < rows * vocab) {
            // NOTE: grows once to the largest number of rows asked for, then stays (as the CPU runner).
            logits = new float[rows * vocab];
        }
        for (int first = 0; first < rows; first += LOGIT_ROWS_PER_PASS) {
            int n = Math.min(LOGIT_ROWS_PER_PASS, rows - first);
            lmHead(first, n);
            CudaMemory.copyDtoHAsync(logitsHost, logitsDev, 4L * n * vocab, ops.stream());
            CudaDriver.streamSynchronize(ops.stream());
            MemorySegment.copy(logitsHost, ValueLayout.JAVA_FLOAT, 0, logits, first * vocab, n * vocab);
        }
        return logits;
    }

    /** As {@link #forward} but returns the argmax id of each logit row, computed on the device. */
    public int[] greedy(BatchInput b) {
        try {
            if (graphable(b)) {
                decodeGraph(b, DecodeGraphs.Output.GREEDY_IDS);
                int[] ids = new int[plan.numLogitRows()];
                MemorySegment.copy(logitsHost, ValueLayout.JAVA_INT, 0, ids, 0, ids.length);
                return ids;
            }
            return greedyIds(layers(b));
        } catch (CudaException e) {
            throw lost(e);
        }
    }

    @Override
    public boolean samplesOnDevice() {
        return sampling != null;
    }

    @Override
    public int penaltyCapacity() {
        return sampling == null ? 0 : sampling.penaltyCapacity();
    }

    @Override
    public SampledStep forwardAndSample(BatchInput b, SamplingRows rows) {
        if (sampling == null) {
            throw new IllegalStateException("this runner was made to sample on the host");
        }
        idsFromLaunch = false;
        if (rows.rows() != b.logitIndices().length) {
            throw new IllegalArgumentException("sampling rows describe " + rows.rows() + " logit rows, the step asks for "
                    + b.logitIndices().length);
        }
        int n = rows.rows();
        int hostRows = 0;
        for (int i = 0; i < n; i++) {
            hostRows += rows.onDevice(i) ? 0 : 1;
        }
        // NOTE: both grow once to the largest step, then stay (as the logits of forward do).
        if (sampledIds.length < n) {
            sampledIds = new int[n];
        }
        if (logits.length < hostRows * c.vocabSize()) {
            logits = new float[hostRows * c.vocabSize()];
        }
        try {
            if (graphable(b)) {
                decodeGraph(b, DecodeGraphs.Output.DEVICE_LOGITS);
                sample(0, n, rows, 0);
            } else {
                layers(b);
                for (int first = 0, before = 0; first < n; first += LOGIT_ROWS_PER_PASS) {
                    lmHead(first, Math.min(LOGIT_ROWS_PER_PASS, n - first));
                    before = sample(first, Math.min(LOGIT_ROWS_PER_PASS, n - first), rows, before);
                }
            }
            return new SampledStep(sampledIds, logits, hostRows);
        } catch (CudaException e) {
            throw lost(e);
        }
    }

    /**
     * Samples the device rows among logit rows [first, first + n), whose logits are in logitsDev, and brings back
     * their ids and the host rows' logits (appended after the {@code hostRowsBefore} of earlier passes); waits.
     * Returns the host rows so far.
     */
    private int sample(int first, int n, SamplingRows rows, int hostRowsBefore) {
        int vocab = c.vocabSize();
        int onDevice = sampling.pack(rows, first, n);
        if (onDevice > 0) {
            sampling.upload(ops.stream());
            sampling.sample(ops, idsOut, logitsDev, vocab);
            CudaMemory.copyDtoHAsync(idsHost, idsOut, 4L * onDevice, ops.stream());
        }
        int hostRows = n - onDevice;
        if (hostRows > 0) {
            // NOTE: one copy per host row; host rows are the exception (guided decoding, log-probabilities).
            int k = 0;
            for (int i = first; i < first + n; i++) {
                if (!rows.onDevice(i)) {
                    CudaMemory.copyDtoHAsync(logitsHost.asSlice(4L * k++ * vocab), logitsDev.plus(4L * (i - first) * vocab),
                            4L * vocab, ops.stream());
                }
            }
        }
        CudaDriver.streamSynchronize(ops.stream());
        for (int k = 0; k < onDevice; k++) {
            sampledIds[first + sampling.passRow(k)] = idsHost.getAtIndex(ValueLayout.JAVA_INT, k);
        }
        if (hostRows > 0) {
            MemorySegment.copy(logitsHost, ValueLayout.JAVA_FLOAT, 0, logits, hostRowsBefore * vocab, hostRows * vocab);
        }
        return hostRowsBefore + hostRows;
    }

    @Override
    public int maxLaunchRows() {
        return Math.min(options.maxBatchTokens(), LOGIT_ROWS_PER_PASS);
    }

    @Override
    public void launch(BatchInput b, SamplingRows rows, int[] previousRows) {
        if (sampling == null) {
            throw new IllegalStateException("this runner was made to sample on the host");
        }
        int n = rows.rows();
        if (n != b.logitIndices().length || n > maxLaunchRows()) {
            throw new IllegalArgumentException("a launched step samples its " + b.logitIndices().length + " logit rows,"
                    + " at most " + maxLaunchRows() + ", all described; got " + n + " rows");
        }
        for (int i = 0; i < n; i++) {
            if (!rows.onDevice(i)) {
                throw new IllegalArgumentException("row " + i + " needs the host sampler: use forwardAndSample");
            }
        }
        if (feeds(previousRows) && !idsFromLaunch) {
            throw new IllegalStateException("tokens are fed from a previous step, but the last step was not launched");
        }
        launched.checkRoom();
        try {
            if (graphable(b)) {
                decodeGraph(b, DecodeGraphs.Output.DEVICE_LOGITS, previousRows);
            } else {
                layers(b, previousRows);
                if (n > 0) {
                    lmHead(0, n);
                }
            }
            if (n > 0) {
                // NOTE: every row is a device row, so pack row k is logit row k and idsOut is by logit row.
                sampling.pack(rows, 0, n);
                sampling.upload(ops.stream());
                sampling.sample(ops, idsOut, logitsDev, c.vocabSize());
            }
            launched.queue(idsOut, n, ops.stream());
            idsFromLaunch = n > 0;
        } catch (CudaException e) {
            throw lost(e);
        }
    }

    private static boolean feeds(int[] previousRows) {
        if (previousRows != null) {
            for (int r : previousRows) {
                if (r >= 0) {
                    return true;
                }
            }
        }
        return false;
    }

    @Override
    public int[] awaitLaunched() {
        if (launched == null) {
            throw new IllegalStateException("this runner was made to sample on the host");
        }
        try {
            return launched.awaitOldest();
        } catch (CudaException e) {
            throw lost(e);
        }
    }

    @Override
    public int launchedPending() {
        return launched == null ? 0 : launched.pending();
    }

    @Override
    public long overlappedLaunches() {
        return launched == null ? 0 : launched.overlapped();
    }

    /** Whether {@code b} is a pure decode step a graph bucket holds (every sequence one token). */
    private boolean graphable(BatchInput b) {
        return graphs != null && lost == null && b.numTokens() == b.numSeqs() && graphs.bucket(b.numSeqs()) > 0;
    }

    private float[] decodeGraph(BatchInput b, DecodeGraphs.Output output) {
        return decodeGraph(b, output, null);
    }

    /**
     * Runs a pure decode step through its bucket's graph: uploads its indices padded to the bucket (and feeds
     * {@code previousRows}), launches (capturing on first use) and, unless {@code DEVICE_LOGITS}, waits and leaves
     * the output in {@code logitsHost}. Returns the logits (as {@link #forward}) for {@code LOGITS}.
     */
    private float[] decodeGraph(BatchInput b, DecodeGraphs.Output output, int[] previousRows) {
        if (lost != null) {
            throw lost;
        }
        ctx.makeCurrent();
        int bucket = graphs.bucket(b.numSeqs());
        inputs.upload(b, previousRows, bucket, ops, idsOut);
        // NOTE: partitions for the longest context the pool holds, so one graph serves every context length.
        DecodeSplit split = DecodeSplit.choose(bucket, c.numHeads(), maxPositions, c.headDim(), multiprocessors);
        int vocab = c.vocabSize();
        graphs.launch(bucket, output, () -> {
            enqueueLayers(bucket, split);
            lmHead(0, bucket);
            if (output == DecodeGraphs.Output.LOGITS) {
                CudaMemory.copyDtoHAsync(logitsHost, logitsDev, 4L * bucket * vocab, ops.stream());
            } else if (output == DecodeGraphs.Output.GREEDY_IDS) {
                ops.argmaxRows(idsOut, logitsDev, bucket, vocab);
                CudaMemory.copyDtoHAsync(logitsHost, idsOut, 4L * bucket, ops.stream());
            }
        });
        if (output == DecodeGraphs.Output.DEVICE_LOGITS) {
            return null; // NOTE: the caller queues sampling behind the replay and waits for both at once
        }
        CudaDriver.streamSynchronize(ops.stream());
        int rows = plan.numLogitRows();
        if (output == DecodeGraphs.Output.LOGITS) {
            if (logits.length < rows * vocab) {
                logits = new float[rows * vocab];
            }
            MemorySegment.copy(logitsHost, ValueLayout.JAVA_FLOAT, 0, logits, 0, rows * vocab);
        }
        return logits;
    }

    /** Waits until the device has run everything queued, as a GPU may well have before the host asks (tests). */
    void drainDevice() {
        ctx.makeCurrent();
        ctx.synchronize();
    }

    /** Graphs captured and launched so far (tests). */
    int capturedGraphs() {
        return graphs == null ? 0 : graphs.captured();
    }

    long graphReplays() {
        return graphs == null ? 0 : graphs.replays();
    }

    /**
     * A sticky error leaves this runner's context unusable for good: say so once, and refuse every later step
     * the same way (see {@link BackendLostException}); any other error is the step's alone.
     */
    private RuntimeException lost(CudaException e) {
        if (!e.contextLost()) {
            return e;
        }
        if (lost == null) {
            lost = new BackendLostException("the CUDA context of " + ctx.deviceName() + " is lost; this model's"
                    + " engine must be rebuilt on a fresh context: " + e.getMessage(), e);
        }
        return lost;
    }

    private int[] greedyIds(int rows) {
        if (rows == 0) {
            return new int[0];
        }
        for (int first = 0; first < rows; first += LOGIT_ROWS_PER_PASS) {
            int n = Math.min(LOGIT_ROWS_PER_PASS, rows - first);
            lmHead(first, n);
            ops.argmaxRows(idsOut.plus(4L * first), logitsDev, n, c.vocabSize());
        }
        CudaMemory.copyDtoHAsync(logitsHost, idsOut, 4L * rows, ops.stream());
        CudaDriver.streamSynchronize(ops.stream());
        int[] ids = new int[rows];
        MemorySegment.copy(logitsHost, ValueLayout.JAVA_INT, 0, ids, 0, rows);
        return ids;
    }

    private int layers(BatchInput b) {
        return layers(b, null);
    }

    /**
     * Uploads the step (feeding {@code previousRows}) and queues every layer and the final norm; returns the number
     * of logit rows asked for.
     */
    private int layers(BatchInput b, int[] previousRows) {
        if (lost != null) {
            throw lost;
        }
        ctx.makeCurrent();
        inputs.upload(b, previousRows, 0, ops, idsOut);
        DecodeSplit split = plan.numQueries() == 0 ? null
                : DecodeSplit.choose(plan.numQueries(), c.numHeads(), plan.maxDecodeContext(), c.headDim(),
                        multiprocessors);
        enqueueLayers(plan.numTokens(), split);
        return plan.numLogitRows();
    }

    /** Queues every layer and the final residual add for the plan's {@code n} tokens (indices already uploaded). */
    private void enqueueLayers(int n, DecodeSplit split) {
        int hidden = c.hiddenSize();
        float eps = c.rmsNormEps();
        ops.embeddingGather(x, w.embedding(), ints(Section.IDS), n, hidden);
        for (int l = 0; l < c.numLayers(); l++) {
            CudaWeights.Layer lw = w.layers().get(l);
            // NOTE: the previous layer's FFN output joins the residual stream in the same kernel as this norm.
            ops.fusedAddRmsNorm(xb, x, l == 0 ? DevicePtr.NULL : proj, lw.inputNorm(), n, hidden, eps);
            blas.linear(xb, BF16, lw.wqkv(), BF16, qkv, F32, n, c.qDim() + 2 * c.kvDim(), hidden, 0f);
            ops.ropeQkvWrite(q, kCache[l].ptr(), vCache[l].ptr(), qkv, lw.qkvBias(), lw.qNorm(), lw.kNorm(), invFreq,
                    ints(Section.POSITIONS), ints(Section.SLOTS), n, shape, rotDim, c.ropeStyle() == RopeStyle.NEOX, eps);
            attention(l, split);
            blas.linear(att, BF16, lw.wo(), BF16, proj, F32, n, hidden, c.qDim(), 0f);
            ops.fusedAddRmsNorm(xb, x, proj, lw.postNorm(), n, hidden, eps);
            blas.linear(xb, BF16, lw.wGateUp(), BF16, gateUp, F32, n, 2 * c.intermediateSize(), hidden, 0f);
            ops.siluMul(h, gateUp, n, c.intermediateSize());
            blas.linear(h, BF16, lw.wDown(), BF16, proj, F32, n, hidden, c.intermediateSize(), 0f);
        }
        // NOTE: adds the last FFN output to x (the normed copy in xb is not used); the LM head norms its rows.
        ops.fusedAddRmsNorm(xb, x, proj, w.finalNorm(), n, hidden, eps);
    }

    /** Final norm and LM head of logit rows [first, first + n) into logitsDev. */
    private void lmHead(int first, int n) {
        ops.rmsNormRows(logitIn, x, ints(Section.LOGIT_ROWS).plus(4L * first), w.finalNorm(), n, c.hiddenSize(),
                c.rmsNormEps());
        blas.linear(logitIn, BF16, w.lmHead(), BF16, logitsDev, F32, n, c.vocabSize(), c.hiddenSize(), 0f);
    }

    /** Decode tokens through the split-K kernel, every other token through the tiled prefill kernel. */
    private void attention(int l, DecodeSplit split) {
        DevicePtr kc = kCache[l].ptr();
        DevicePtr vc = vCache[l].ptr();
        if (plan.numQueries() > 0) {
            ops.decodeAttention(att, partOut, partMax, partSum, q, kc, vc, ints(Section.QUERY_TOKENS),
                    ints(Section.TOKEN_SEQ), ints(Section.POSITIONS), ints(Section.BLOCK_TABLES),
                    plan.blockTableStride(), plan.numQueries(), shape, split);
        }
        if (plan.numTiles() > 0 && tcHeadsPerBlock > 0) {
            ops.prefillAttentionTc(att, q, kc, vc, ints(Section.TILE_START), ints(Section.TILE_LEN),
                    ints(Section.TOKEN_SEQ), ints(Section.POSITIONS), ints(Section.BLOCK_TABLES),
                    plan.blockTableStride(), plan.numTiles(), shape, tcHeadsPerBlock);
        } else if (plan.numTiles() > 0) {
            ops.prefillAttention(att, q, kc, vc, ints(Section.TILE_START), ints(Section.TILE_LEN),
                    ints(Section.TOKEN_SEQ), ints(Section.POSITIONS), ints(Section.BLOCK_TABLES),
                    plan.blockTableStride(), plan.numTiles(), shape);
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
        try {
            if (graphs != null && lost == null) {
                ctx.makeCurrent();
                graphs.destroy();
            }
        } finally {
            ctx.close();
        }
    }
}
