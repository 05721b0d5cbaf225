package dev.bulkhead.engine.internal.runner;

import dev.bulkhead.engine.internal.cpu.BlasGemm;
import dev.bulkhead.engine.internal.cpu.CpuKernels;
import dev.bulkhead.engine.internal.cpu.CpuKvCache;
import dev.bulkhead.engine.internal.cpu.CpuThreadPool;
import dev.bulkhead.engine.internal.cpu.PagedAttention;
import dev.bulkhead.engine.internal.cpu.RopeTable;
import dev.bulkhead.engine.internal.cpu.WeightMatrices;
import dev.bulkhead.engine.internal.cpu.WeightMatrix;
import dev.bulkhead.model.arch.LayerWeights;
import dev.bulkhead.model.arch.ModelWeights;
import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.tensor.Dequantizer;
import dev.bulkhead.model.tensor.WeightTensor;
import java.lang.foreign.Arena;

/**
 * The CPU backend's forward pass, in the shape of llama2.c's {@code forward()} but over a ragged batch:
 * every weight matrix is streamed once per step for all tokens of all sequences, K/V go into the paged
 * cache, and attention reads each sequence's blocks through its block table.
 */
public final class CpuModelRunner implements ModelRunner {

    private final ModelConfig c;
    private final CpuRunnerOptions options;
    private final CpuThreadPool pool;
    private final BlasGemm blas;           // null: every product on the Java kernels (the default)
    private final CpuKvCache cache;
    private final RopeTable rope;
    private final float attnScale;

    private final Arena copies;           // the weight copies some types keep (WeightMatrices#hostBytes)
    private final WeightMatrix embedding; // (vocab, hidden)
    private final CpuLayer[] layers;      // (layer)
    private final float[] finalNorm;      // (hidden)
    private final WeightMatrix lmHead;    // (vocab, hidden)

    private final float[] x;      // (tokens, hidden) residual stream
    private final float[] xb;     // (tokens, hidden) normalized input of a projection
    private final float[] q;      // (tokens, numHeads * headDim)
    private final float[] k;      // (tokens, numKvHeads * headDim)
    private final float[] v;      // (tokens, numKvHeads * headDim)
    private final float[] att;    // (tokens, numHeads * headDim) attention output
    private final float[] proj;   // (tokens, hidden) output of o_proj and down_proj
    private final float[] hb;     // (tokens, ffn) gate, then silu(gate) * up
    private final float[] hb2;    // (tokens, ffn) up
    private final float[][] qkvOut;    // {q, k, v}
    private final float[][] gateUpOut; // {hb, hb2}
    private final int[] slots;    // (tokens) cache slot of each token
    private final int[] tokenSeq; // (tokens) sequence of each token
    private final int[] groupStart; // (tokens) first token of each attention group of this step
    private final int[] groupSize;  // (tokens) its tokens: consecutive positions of one sequence
    private int groups;
    private float[] logitInput;   // (logit rows, hidden) final-normed rows that need logits
    private float[] logits;       // (logit rows, vocab)
    private final ThreadLocal<float[]> attnScratch;

    public CpuModelRunner(ModelWeights weights, CpuRunnerOptions options) {
        this.c = weights.config();
        this.options = options;
        this.blas = BlasGemm.create(options.gemm());
        this.pool = new CpuThreadPool(options.threads());
        int capacity = options.numBlocks() * options.blockSize();
        this.cache = new CpuKvCache(c.numLayers(), options.numBlocks(), options.blockSize(), c.numKvHeads(), c.headDim());
        this.rope = new RopeTable(c.ropeScaling().inverseFrequencies(c.ropeTheta(), c.headDim()),
                Math.min(capacity, c.maxPositionEmbeddings()));
        this.attnScale = (float) (1.0 / Math.sqrt(c.headDim()));
        // NOTE: a shared arena, closed with the runner: an automatic one would count against -XX:MaxDirectMemorySize
        // (the heap's size by default, less than a large Q4_K_M model's copies) and outlive a restarted engine until
        // a collection.
        this.copies = Arena.ofShared();
        try {
            this.embedding = WeightMatrices.of(weights.embedding(), copies);
            this.lmHead = weights.lmHead() == weights.embedding() ? embedding
                    : WeightMatrices.of(weights.lmHead(), copies);
            this.layers = weights.layers().stream().map(l -> layer(l, copies)).toArray(CpuLayer[]::new);
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
        this.finalNorm = toFloats(weights.finalNorm());
        int t = options.maxBatchTokens();
        this.x = new float[t * c.hiddenSize()];
        this.xb = new float[t * c.hiddenSize()];
        this.q = new float[t * c.qDim()];
        this.k = new float[t * c.kvDim()];
        this.v = new float[t * c.kvDim()];
        this.att = new float[t * c.qDim()];
        this.proj = new float[t * c.hiddenSize()];
        this.hb = new float[t * c.intermediateSize()];
        this.hb2 = new float[t * c.intermediateSize()];
        this.qkvOut = new float[][] {q, k, v};
        this.gateUpOut = new float[][] {hb, hb2};
        this.slots = new int[t];
        this.tokenSeq = new int[t];
        this.groupStart = new int[t];
        this.groupSize = new int[t];
        this.logitInput = new float[c.hiddenSize()];
        this.logits = new float[c.vocabSize()];
        this.attnScratch = ThreadLocal.withInitial(() -> new float[0]);
    }

    private static CpuLayer layer(LayerWeights l, Arena copies) {
        return new CpuLayer(toFloats(l.inputNorm()), WeightMatrices.of(l.wq(), copies),
                WeightMatrices.of(l.wk(), copies), WeightMatrices.of(l.wv(), copies), WeightMatrices.of(l.wo(), copies),
                toFloats(l.bq()), toFloats(l.bk()), toFloats(l.bv()), toFloats(l.qNorm()), toFloats(l.kNorm()),
                toFloats(l.postAttnNorm()), WeightMatrices.of(l.gate(), copies), WeightMatrices.of(l.up(), copies),
                WeightMatrices.of(l.down(), copies));
    }

    private static float[] toFloats(WeightTensor t) {
        if (t == null) {
            return null;
        }
        float[] out = new float[Math.toIntExact(t.elementCount())];
        Dequantizer.dequantize(t.dtype(), t.data(), 0, out, 0, out.length);
        return out;
    }

    @Override
    public float[] forward(BatchInput b) {
        int n = b.numTokens();
        if (n > options.maxBatchTokens()) {
            throw new IllegalArgumentException("batch has " + n + " tokens; this runner takes at most "
                    + options.maxBatchTokens() + " per step (maxBatchTokens)");
        }
        mapTokens(b);
        int hidden = c.hiddenSize();
        for (int t = 0; t < n; t++) {
            embedding.dequantizeRow(b.tokenIds()[t], x, t * hidden);
        }
        for (int l = 0; l < layers.length; l++) {
            attentionBlock(l, layers[l], b, n);
            ffnBlock(layers[l], n);
        }
        return computeLogits(b.logitIndices());
    }

    /** Validates ids and block tables, and computes every token's sequence and cache slot. */
    private void mapTokens(BatchInput b) {
        int bs = options.blockSize();
        for (int s = 0; s < b.numSeqs(); s++) {
            int[] table = b.blockTables()[s];
            for (int t = b.seqStarts()[s]; t < b.seqStarts()[s + 1]; t++) {
                int token = b.tokenIds()[t];
                if (token < 0 || token >= c.vocabSize()) {
                    throw new IllegalArgumentException("token id " + token + " is outside [0, " + c.vocabSize() + ")");
                }
                int pos = b.positions()[t];
                if (pos < 0 || pos >= rope.maxPositions() || pos / bs >= table.length) {
                    throw new IllegalArgumentException("position " + pos + " of sequence " + s + " is past its "
                            + table.length + " KV blocks or the context of " + rope.maxPositions());
                }
                int block = table[pos / bs];
                if (block < 0 || block >= options.numBlocks()) {
                    throw new IllegalArgumentException("block " + block + " is outside the pool of " + options.numBlocks());
                }
                slots[t] = block * bs + pos % bs;
                tokenSeq[t] = s;
            }
        }
        groupTokens(b);
    }

    /**
     * Splits each sequence's tokens into groups of up to {@link PagedAttention#QUERY_TILE} tokens at consecutive
     * positions, which attention takes together ({@link PagedAttention#attendQueries}).
     */
    private void groupTokens(BatchInput b) {
        int[] positions = b.positions();
        groups = 0;
        for (int s = 0; s < b.numSeqs(); s++) {
            int end = b.seqStarts()[s + 1];
            for (int t = b.seqStarts()[s]; t < end; ) {
                int size = 1;
                while (size < PagedAttention.QUERY_TILE && t + size < end
                        && positions[t + size] == positions[t] + size) {
                    size++;
                }
                groupStart[groups] = t;
                groupSize[groups++] = size;
                t += size;
            }
        }
    }

    private void attentionBlock(int layer, CpuLayer w, BatchInput b, int n) {
        int hidden = c.hiddenSize();
        int qDim = c.qDim();
        int kvDim = c.kvDim();
        int headDim = c.headDim();
        for (int t = 0; t < n; t++) {
            CpuKernels.rmsNorm(xb, t * hidden, x, t * hidden, w.inputNorm(), hidden, c.rmsNormEps());
        }
        w.qkv().multiply(pool, blas, xb, n, qkvOut);
        for (int t = 0; t < n; t++) {
            if (w.bq() != null) {
                CpuKernels.add(q, t * qDim, w.bq(), 0, qDim);
                CpuKernels.add(k, t * kvDim, w.bk(), 0, kvDim);
                CpuKernels.add(v, t * kvDim, w.bv(), 0, kvDim);
            }
            if (w.qNorm() != null) {
                for (int h = 0; h < c.numHeads(); h++) {
                    int off = t * qDim + h * headDim;
                    CpuKernels.rmsNorm(q, off, q, off, w.qNorm(), headDim, c.rmsNormEps());
                }
                for (int h = 0; h < c.numKvHeads(); h++) {
                    int off = t * kvDim + h * headDim;
                    CpuKernels.rmsNorm(k, off, k, off, w.kNorm(), headDim, c.rmsNormEps());
                }
            }
            int pos = b.positions()[t];
            CpuKernels.rope(q, t * qDim, c.numHeads(), headDim, pos, rope, c.ropeStyle());
            CpuKernels.rope(k, t * kvDim, c.numKvHeads(), headDim, pos, rope, c.ropeStyle());
            cache.write(layer, slots[t], k, t * kvDim, v, t * kvDim);
        }
        // NOTE: every token's K/V of this step is in the cache before any attention reads it, so a prefill
        // chunk attends to its own earlier tokens exactly as a decode step attends to the past.
        // NOTE: head-major, so that the tasks of one worker's chunk share a head's K and V, and every chunk
        // holds early and late tokens alike (a causal prompt's later tokens attend to more positions).
        int heads = c.numHeads();
        int g = groups;
        pool.parallelFor(g * heads, 1, (start, end) -> {
            float[] scratch = attnScratch.get();
            for (int i = start; i < end; i++) {
                int h = i / g;
                int t = groupStart[i % g];
                int size = groupSize[i % g];
                int contextLen = b.positions()[t] + 1;
                long need = PagedAttention.queriesScratch(contextLen, size);
                if (scratch.length < need) {
                    // NOTE: grows to the longest group and context this thread has seen, then stays.
                    scratch = new float[Math.toIntExact(need)];
                    attnScratch.set(scratch);
                }
                int[] table = b.blockTables()[tokenSeq[t]];
                PagedAttention.attendQueries(cache, layer, q, t * qDim, qDim, h, heads, table, contextLen, size,
                        c.slidingWindow(), attnScale, att, t * qDim + h * headDim, qDim, scratch);
            }
        });
        matmul(w.wo(), att, n, proj);
        CpuKernels.add(x, 0, proj, 0, n * hidden);
    }

    private void ffnBlock(CpuLayer w, int n) {
        int hidden = c.hiddenSize();
        for (int t = 0; t < n; t++) {
            CpuKernels.rmsNorm(xb, t * hidden, x, t * hidden, w.postAttnNorm(), hidden, c.rmsNormEps());
        }
        w.gateUp().multiply(pool, blas, xb, n, gateUpOut);
        CpuKernels.siluMul(hb, 0, hb2, 0, n * c.intermediateSize());
        matmul(w.down(), hb, n, proj);
        CpuKernels.add(x, 0, proj, 0, n * hidden);
    }

    private float[] computeLogits(int[] rows) {
        int hidden = c.hiddenSize();
        if (logits.length < rows.length * c.vocabSize()) {
            // NOTE: grows once to the largest number of sequences asking for logits, then stays.
            logitInput = new float[rows.length * hidden];
            logits = new float[rows.length * c.vocabSize()];
        }
        for (int i = 0; i < rows.length; i++) {
            CpuKernels.rmsNorm(logitInput, i * hidden, x, rows[i] * hidden, finalNorm, hidden, c.rmsNormEps());
        }
        if (rows.length > 0) {
            matmul(lmHead, logitInput, rows.length, logits);
        }
        return logits;
    }

    private void matmul(WeightMatrix w, float[] in, int tokens, float[] out) {
        if (blas != null && blas.handles(w, tokens)) {
            blas.multiply(pool, w, in, tokens, out);
        } else {
            WeightMatrices.parallelMultiply(pool, w, in, tokens, out);
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

    /** Threads this runner splits work over. */
    public int threads() {
        return pool.threads();
    }

    @Override
    public void close() {
        pool.close();
        if (blas != null) {
            blas.close();
        }
        // NOTE: after the pool: no worker still reads a copy. A step after close fails on the closed arena.
        if (copies.scope().isAlive()) {
            copies.close();
        }
    }
}
