package dev.bulkhead.engine.internal.cpu;

import static dev.bulkhead.engine.internal.cpu.Vectors.FLOAT;
import static dev.bulkhead.engine.internal.cpu.Vectors.LANES;

import jdk.incubator.vector.FloatVector;

/**
 * Attention of one query head of one token over its sequence's cached K and V, found through the
 * sequence's block table. Stateless and thread safe: concurrent calls need distinct {@code out} ranges and
 * distinct {@code scratch} arrays.
 */
public final class PagedAttention {

    /** Tokens the engine passes {@link #attendQueries} at most: four tiles of four. */
    public static final int QUERY_TILE = 16;

    /**
     * Whether scores take eight keys at a time ({@link #eightScores}): where a vector has eight float lanes (AVX2),
     * so that the eight scores' lane trees fill one vector. NOTE: with one lane tree per score, the shuffles and
     * adds of the horizontal sums cost about as much as the 64-float dot products themselves.
     */
    static final boolean EIGHT_KEYS = LANES == 8;

    private PagedAttention() {
    }

    /**
     * Full causal attention over positions [0, contextLen):
     * {@code out = softmax(scale * q . K[p]) . V[p]}, with K and V of kv head {@code head / (numHeads /
     * numKvHeads)} (grouped-query attention).
     *
     * @param q          query vectors, head {@code head} at {@code qOff + head * headDim}
     * @param blockTable the sequence's blocks: position p lives in slot
     *                   {@code blockTable[p / blockSize] * blockSize + p % blockSize}
     * @param contextLen positions to attend to, the token's own included; at least 1
     * @param out        receives {@code headDim} floats at {@code outOff}
     * @param scratch    at least {@code contextLen} floats, overwritten
     */
    public static void attend(CpuKvCache cache, int layer, float[] q, int qOff, int head, int numHeads,
                              int[] blockTable, int contextLen, float scale, float[] out, int outOff,
                              float[] scratch) {
        attend(cache, layer, q, qOff, head, numHeads, blockTable, contextLen, 0, scale, out, outOff, scratch);
    }

    /**
     * As {@link #attend(CpuKvCache, int, float[], int, int, int, int[], int, float, float[], int, float[])},
     * limited to the last {@code window} positions [contextLen - window, contextLen) when {@code window > 0}
     * (sliding-window attention, Mistral); {@code window == 0} attends to all positions.
     */
    public static void attend(CpuKvCache cache, int layer, float[] q, int qOff, int head, int numHeads,
                              int[] blockTable, int contextLen, int window, float scale, float[] out, int outOff,
                              float[] scratch) {
        check(cache, head, numHeads, blockTable, contextLen, window);
        if (scratch.length < contextLen) {
            throw new IllegalArgumentException("scratch needs " + contextLen + " floats, has " + scratch.length);
        }
        int headDim = cache.headDim();
        int headOff = kvHeadOffset(cache, head, numHeads);
        int bs = cache.blockSize();
        int slotSize = cache.slotSize();
        int first = firstPosition(contextLen, window);
        int qh = qOff + head * headDim;

        scores(q, qh, cache.keys(layer), blockTable, bs, slotSize, headOff, headDim, first, contextLen, scale, scratch);
        CpuKernels.softmax(scratch, first, contextLen - first);
        weightedValues(cache.values(layer), blockTable, bs, slotSize, headOff, headDim, first, contextLen, scratch, out,
                outOff);
    }

    /**
     * Attention of {@code count} consecutive tokens of one sequence for one query head, token i at
     * {@code q[qOff + i * qStride ..]} attending to its positions [0, firstContextLen + i) (or its last
     * {@code window}), into {@code out[outOff + i * outStride ..]}: the bits of {@link #attend} once per token.
     * NOTE: a prefill's tokens read the same keys and values. Taken four at a time ({@code QueryTile}), each key
     * and value is read once per four tokens instead of once per token, and the next fours of the call find
     * them in cache: at a 2k-token prompt that was most of attention's time. Up to {@value #QUERY_TILE}
     * tokens a call is what the engine passes; any count works.
     *
     * @param scratch at least {@link #queriesScratch} floats, overwritten
     */
    public static void attendQueries(CpuKvCache cache, int layer, float[] q, int qOff, int qStride, int head,
                                     int numHeads, int[] blockTable, int firstContextLen, int count, int window,
                                     float scale, float[] out, int outOff, int outStride, float[] scratch) {
        if (count < 1) {
            throw new IllegalArgumentException("count must be >= 1, got " + count);
        }
        int lastContextLen = firstContextLen + count - 1;
        check(cache, head, numHeads, blockTable, firstContextLen, window);
        check(cache, head, numHeads, blockTable, lastContextLen, window);
        long need = queriesScratch(firstContextLen, count);
        if (scratch.length < need) {
            throw new IllegalArgumentException("scratch needs " + need + " floats, has " + scratch.length);
        }
        int first = firstPosition(firstContextLen, window);
        // NOTE: a window that cuts some of the tokens' first positions leaves them no shared start.
        int tiles = firstPosition(lastContextLen, window) == first ? count / QueryTile.QUERIES : 0;
        if (tiles > 0) {
            int headDim = cache.headDim();
            QueryTile.attend(cache.keys(layer), cache.values(layer), blockTable, cache.blockSize(),
                    cache.slotSize(), kvHeadOffset(cache, head, numHeads), headDim, q, qOff + head * headDim, qStride,
                    tiles, first, firstContextLen, scale, out, outOff, outStride, scratch, lastContextLen);
        }
        for (int i = tiles * QueryTile.QUERIES; i < count; i++) {
            attend(cache, layer, q, qOff + i * qStride, head, numHeads, blockTable, firstContextLen + i, window,
                    scale, out, outOff + i * outStride, scratch);
        }
    }

    /**
     * Scratch floats {@link #attendQueries} needs for {@code count} tokens from {@code firstContextLen}: one
     * score per position for each token, {@code count * (firstContextLen + count - 1)}.
     */
    public static long queriesScratch(int firstContextLen, int count) {
        return (long) count * (firstContextLen + count - 1);
    }

    private static void check(CpuKvCache cache, int head, int numHeads, int[] blockTable, int contextLen, int window) {
        int kvHeads = cache.numKvHeads();
        if (numHeads < kvHeads || numHeads % kvHeads != 0) {
            throw new IllegalArgumentException("numHeads " + numHeads + " must be a multiple of numKvHeads " + kvHeads);
        }
        if (head < 0 || head >= numHeads) {
            throw new IndexOutOfBoundsException("head " + head + " outside [0, " + numHeads + ")");
        }
        if (contextLen < 1) {
            throw new IllegalArgumentException("contextLen must be >= 1, got " + contextLen);
        }
        if (window < 0) {
            throw new IllegalArgumentException("window must be >= 0, got " + window);
        }
        int bs = cache.blockSize();
        if ((long) blockTable.length * bs < contextLen) {
            throw new IllegalArgumentException("block table of " + blockTable.length + " blocks of " + bs
                    + " cannot hold contextLen " + contextLen);
        }
    }

    /** First position a token with {@code contextLen} positions attends to. */
    private static int firstPosition(int contextLen, int window) {
        return window > 0 ? Math.max(0, contextLen - window) : 0;
    }

    /** Offset of query head {@code head}'s K/V head within a slot (grouped-query attention). */
    private static int kvHeadOffset(CpuKvCache cache, int head, int numHeads) {
        return head / (numHeads / cache.numKvHeads()) * cache.headDim();
    }

    /**
     * {@code scratch[p] = scale * q . K[p]} for p in [first, end), eight keys at a time where {@link #EIGHT_KEYS},
     * then four. NOTE: each key is summed exactly as {@link Vectors#dot} sums it (one accumulator, then the fixed
     * lane tree, then the tail); the interleaved chains only hide the FMA latency that one 64-float dot product is
     * bound by. Positions are walked block by block ({@link #runEnd}), so which keys share a group does not
     * change a bit.
     */
    private static void scores(float[] q, int qh, float[] keys, int[] blockTable, int bs, int slotSize, int headOff,
                               int headDim, int first, int end, float scale, float[] scratch) {
        int upper = FLOAT.loopBound(headDim);
        int p = first;
        while (p < end) {
            int runEnd = runEnd(p, bs, end);
            int k0 = offset(blockTable, bs, slotSize, headOff, p);
            if (EIGHT_KEYS && upper == headDim) {
                for (; p + 8 <= runEnd; p += 8, k0 += 8 * slotSize) {
                    eightScores(q, qh, keys, k0, slotSize, headDim, scale, scratch, p);
                }
            }
            for (; p + 4 <= runEnd; p += 4, k0 += 4 * slotSize) {
                int k1 = k0 + slotSize;
                int k2 = k1 + slotSize;
                int k3 = k2 + slotSize;
                FloatVector a0 = FloatVector.zero(FLOAT);
                FloatVector a1 = a0;
                FloatVector a2 = a0;
                FloatVector a3 = a0;
                for (int d = 0; d < upper; d += LANES) {
                    FloatVector qv = FloatVector.fromArray(FLOAT, q, qh + d);
                    a0 = qv.fma(FloatVector.fromArray(FLOAT, keys, k0 + d), a0);
                    a1 = qv.fma(FloatVector.fromArray(FLOAT, keys, k1 + d), a1);
                    a2 = qv.fma(FloatVector.fromArray(FLOAT, keys, k2 + d), a2);
                    a3 = qv.fma(FloatVector.fromArray(FLOAT, keys, k3 + d), a3);
                }
                scratch[p] = Vectors.tail(q, qh, keys, k0, upper, headDim, Vectors.sum(a0)) * scale;
                scratch[p + 1] = Vectors.tail(q, qh, keys, k1, upper, headDim, Vectors.sum(a1)) * scale;
                scratch[p + 2] = Vectors.tail(q, qh, keys, k2, upper, headDim, Vectors.sum(a2)) * scale;
                scratch[p + 3] = Vectors.tail(q, qh, keys, k3, upper, headDim, Vectors.sum(a3)) * scale;
            }
            for (; p < runEnd; p++, k0 += slotSize) {
                scratch[p] = Vectors.dot(q, qh, keys, k0, headDim) * scale;
            }
        }
    }

    /**
     * {@code scratch[sOff + j] = scale * q . K[p + j]} for eight consecutive keys from {@code k}, one accumulator
     * each, their eight lane trees taken together ({@link Vectors#sums}) into one vector stored at once: the bits
     * of {@link Vectors#dot} times the scale, without a horizontal sum per score. Only where {@link #EIGHT_KEYS}
     * and for a head size that is a multiple of eight (no tail).
     */
    static void eightScores(float[] q, int qi, float[] keys, int k, int slotSize, int headDim, float scale,
                            float[] scratch, int sOff) {
        int k1 = k + slotSize;
        int k2 = k1 + slotSize;
        int k3 = k2 + slotSize;
        int k4 = k3 + slotSize;
        int k5 = k4 + slotSize;
        int k6 = k5 + slotSize;
        int k7 = k6 + slotSize;
        FloatVector a0 = FloatVector.zero(FLOAT);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector a4 = a0;
        FloatVector a5 = a0;
        FloatVector a6 = a0;
        FloatVector a7 = a0;
        for (int d = 0; d < headDim; d += LANES) {
            FloatVector qv = FloatVector.fromArray(FLOAT, q, qi + d);
            a0 = qv.fma(FloatVector.fromArray(FLOAT, keys, k + d), a0);
            a1 = qv.fma(FloatVector.fromArray(FLOAT, keys, k1 + d), a1);
            a2 = qv.fma(FloatVector.fromArray(FLOAT, keys, k2 + d), a2);
            a3 = qv.fma(FloatVector.fromArray(FLOAT, keys, k3 + d), a3);
            a4 = qv.fma(FloatVector.fromArray(FLOAT, keys, k4 + d), a4);
            a5 = qv.fma(FloatVector.fromArray(FLOAT, keys, k5 + d), a5);
            a6 = qv.fma(FloatVector.fromArray(FLOAT, keys, k6 + d), a6);
            a7 = qv.fma(FloatVector.fromArray(FLOAT, keys, k7 + d), a7);
        }
        Vectors.sums(a0, a1, a2, a3, a4, a5, a6, a7).mul(scale).intoArray(scratch, sOff);
    }

    /**
     * {@code out = sum_p scratch[p] * V[p]} over p in [first, end) in position order, for each output float. NOTE:
     * the output is walked in slices of eight vectors (then four, then one) kept in registers over all positions,
     * instead of loading and storing the output once per position: the same FMAs in the same order, a fraction
     * of the memory traffic. Eight vectors are a whole 64-float head on AVX2, read in one pass over the positions;
     * the slices are written out per width because vectors held in an array would not stay in registers.
     * Positions are walked block by block ({@link #runEnd}), still in order.
     */
    private static void weightedValues(float[] values, int[] blockTable, int bs, int slotSize, int headOff,
                                       int headDim, int first, int end, float[] scratch, float[] out, int outOff) {
        int upper = FLOAT.loopBound(headDim);
        int d = 0;
        for (; d + 8 * LANES <= upper; d += 8 * LANES) {
            FloatVector a0 = FloatVector.zero(FLOAT);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            FloatVector a4 = a0;
            FloatVector a5 = a0;
            FloatVector a6 = a0;
            FloatVector a7 = a0;
            for (int p = first; p < end; ) {
                int runEnd = runEnd(p, bs, end);
                for (int v = offset(blockTable, bs, slotSize, headOff, p) + d; p < runEnd; p++, v += slotSize) {
                    FloatVector w = FloatVector.broadcast(FLOAT, scratch[p]);
                    a0 = FloatVector.fromArray(FLOAT, values, v).fma(w, a0);
                    a1 = FloatVector.fromArray(FLOAT, values, v + LANES).fma(w, a1);
                    a2 = FloatVector.fromArray(FLOAT, values, v + 2 * LANES).fma(w, a2);
                    a3 = FloatVector.fromArray(FLOAT, values, v + 3 * LANES).fma(w, a3);
                    a4 = FloatVector.fromArray(FLOAT, values, v + 4 * LANES).fma(w, a4);
                    a5 = FloatVector.fromArray(FLOAT, values, v + 5 * LANES).fma(w, a5);
                    a6 = FloatVector.fromArray(FLOAT, values, v + 6 * LANES).fma(w, a6);
                    a7 = FloatVector.fromArray(FLOAT, values, v + 7 * LANES).fma(w, a7);
                }
            }
            a0.intoArray(out, outOff + d);
            a1.intoArray(out, outOff + d + LANES);
            a2.intoArray(out, outOff + d + 2 * LANES);
            a3.intoArray(out, outOff + d + 3 * LANES);
            a4.intoArray(out, outOff + d + 4 * LANES);
            a5.intoArray(out, outOff + d + 5 * LANES);
            a6.intoArray(out, outOff + d + 6 * LANES);
            a7.intoArray(out, outOff + d + 7 * LANES);
        }
        for (; d + 4 * LANES <= upper; d += 4 * LANES) {
            FloatVector a0 = FloatVector.zero(FLOAT);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            for (int p = first; p < end; ) {
                int runEnd = runEnd(p, bs, end);
                for (int v = offset(blockTable, bs, slotSize, headOff, p) + d; p < runEnd; p++, v += slotSize) {
                    FloatVector w = FloatVector.broadcast(FLOAT, scratch[p]);
                    a0 = FloatVector.fromArray(FLOAT, values, v).fma(w, a0);
                    a1 = FloatVector.fromArray(FLOAT, values, v + LANES).fma(w, a1);
                    a2 = FloatVector.fromArray(FLOAT, values, v + 2 * LANES).fma(w, a2);
                    a3 = FloatVector.fromArray(FLOAT, values, v + 3 * LANES).fma(w, a3);
                }
            }
            a0.intoArray(out, outOff + d);
            a1.intoArray(out, outOff + d + LANES);
            a2.intoArray(out, outOff + d + 2 * LANES);
            a3.intoArray(out, outOff + d + 3 * LANES);
        }
        for (; d < upper; d += LANES) {
            FloatVector a = FloatVector.zero(FLOAT);
            for (int p = first; p < end; ) {
                int runEnd = runEnd(p, bs, end);
                for (int v = offset(blockTable, bs, slotSize, headOff, p) + d; p < runEnd; p++, v += slotSize) {
                    a = FloatVector.fromArray(FLOAT, values, v).fma(FloatVector.broadcast(FLOAT, scratch[p]), a);
                }
            }
            a.intoArray(out, outOff + d);
        }
        for (; d < headDim; d++) {
            float a = 0f;
            for (int p = first; p < end; p++) {
                a = Math.fma(values[offset(blockTable, bs, slotSize, headOff, p) + d], scratch[p], a);
            }
            out[outOff + d] = a;
        }
    }

    /**
     * End of the run of positions from p that share p's KV block (capped at {@code end}): their slots are
     * consecutive, so a run's offsets are one {@link #offset} plus multiples of the slot size. NOTE: the block
     * size is not a constant, so {@link #offset} costs an integer division; once per position it took more
     * time than the position's FMAs (JFR: attention was a fifth of a 16-sequence batched decode).
     */
    static int runEnd(int p, int bs, int end) {
        return Math.min(end, (p / bs + 1) * bs);
    }

    /** Index of position p's head slice in the layer's K or V array. */
    static int offset(int[] blockTable, int bs, int slotSize, int headOff, int p) {
        return (blockTable[p / bs] * bs + p % bs) * slotSize + headOff;
    }
}
