package dev.bulkhead.engine.internal.cpu;

import static dev.bulkhead.engine.internal.cpu.Vectors.FLOAT;
import static dev.bulkhead.engine.internal.cpu.Vectors.LANES;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * Attention of one query head of one token over its sequence's cached K and V, found through the
 * sequence's block table. Stateless and thread safe: concurrent calls need distinct {@code out} ranges and
 * distinct {@code scratch} arrays.
 */
public final class PagedAttention {

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
        if (scratch.length < contextLen) {
            throw new IllegalArgumentException("scratch needs " + contextLen + " floats, has " + scratch.length);
        }
        int headDim = cache.headDim();
        int kvHead = head / (numHeads / kvHeads);
        int headOff = kvHead * headDim;
        int slotSize = cache.slotSize();
        float[] keys = cache.keys(layer);
        float[] values = cache.values(layer);
        int first = window > 0 ? Math.max(0, contextLen - window) : 0;
        int qh = qOff + head * headDim;

        for (int p = first; p < contextLen; p++) {
            int slot = blockTable[p / bs] * bs + p % bs;
            scratch[p] = Vectors.dot(q, qh, keys, slot * slotSize + headOff, headDim) * scale;
        }
        CpuKernels.softmax(scratch, first, contextLen - first);

        Arrays.fill(out, outOff, outOff + headDim, 0f);
        int upper = FLOAT.loopBound(headDim);
        for (int p = first; p < contextLen; p++) {
            int vOff = (blockTable[p / bs] * bs + p % bs) * slotSize + headOff;
            float w = scratch[p];
            FloatVector wv = FloatVector.broadcast(FLOAT, w);
            int d = 0;
            for (; d < upper; d += LANES) {
                FloatVector.fromArray(FLOAT, values, vOff + d)
                        .fma(wv, FloatVector.fromArray(FLOAT, out, outOff + d))
                        .intoArray(out, outOff + d);
            }
            for (; d < headDim; d++) {
                out[outOff + d] = Math.fma(values[vOff + d], w, out[outOff + d]);
            }
        }
    }
}
