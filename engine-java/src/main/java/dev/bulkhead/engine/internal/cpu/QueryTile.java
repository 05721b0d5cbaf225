package dev.bulkhead.engine.internal.cpu;

import static dev.bulkhead.engine.internal.cpu.Vectors.FLOAT;
import static dev.bulkhead.engine.internal.cpu.Vectors.LANES;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * Attention of consecutive tokens of one sequence and one query head, four at a time (a tile), giving each
 * token the bits of {@link PagedAttention#attend}. Token i attends to [first, end0 + i). Every key and value
 * of the positions a tile's four tokens all attend to is read once for the four, and the tiles of one call take
 * each KV block in turn, for the scores and again for the weighted values, so those reads come from L1 after the
 * first tile's. The few positions only a tile's later tokens see come after the shared ones, one token at a time,
 * so each token's scores and weighted sum take their FMAs in the order {@link PagedAttention#attend} takes them.
 *
 * <p>The scores of token i sit at {@code scratch[i * stride + p]}.
 */
final class QueryTile {

    /** Tokens per tile: four queries by two keys (or two value vectors) are eight accumulators in registers. */
    static final int QUERIES = 4;

    private QueryTile() {
    }

    /**
     * {@code tiles * QUERIES} tokens: token i's query at {@code q[qh + i * qStride]}, its output at
     * {@code out[outOff + i * outStride]}.
     */
    static void attend(float[] keys, float[] values, int[] blockTable, int bs, int slotSize, int headOff,
                       int headDim, float[] q, int qh, int qStride, int tiles, int first, int end0, float scale,
                       float[] out, int outOff, int outStride, float[] scratch, int stride) {
        int count = tiles * QUERIES;
        int jointEnd = end0 + (tiles - 1) * QUERIES;
        for (int p = first; p < jointEnd; ) {
            int runEnd = PagedAttention.runEnd(p, bs, jointEnd);
            int k0 = PagedAttention.offset(blockTable, bs, slotSize, headOff, p);
            for (int j = 0; j < tiles; j++) {
                int i = j * QUERIES;
                int e = Math.min(runEnd, end0 + i);
                if (p < e) {
                    scores(q, qh + i * qStride, qStride, keys, k0, slotSize, headDim, p, e, scale, scratch,
                            i * stride, stride);
                }
            }
            p = runEnd;
        }
        for (int i = 0; i < count; i++) {
            for (int p = end0 + i / QUERIES * QUERIES; p < end0 + i; p++) {
                int k = PagedAttention.offset(blockTable, bs, slotSize, headOff, p);
                scratch[i * stride + p] = Vectors.dot(q, qh + i * qStride, keys, k, headDim) * scale;
            }
            CpuKernels.softmax(scratch, i * stride + first, end0 + i - first);
        }
        weightedValues(values, blockTable, bs, slotSize, headOff, headDim, tiles, first, end0, scratch, stride, out,
                outOff, outStride);
        for (int i = 0; i < count; i++) {
            for (int p = end0 + i / QUERIES * QUERIES; p < end0 + i; p++) {
                addWeighted(values, PagedAttention.offset(blockTable, bs, slotSize, headOff, p), headDim,
                        scratch[i * stride + p], out, outOff + i * outStride);
            }
        }
    }

    /**
     * {@code scratch[sOff + i * stride + p] = scale * q_i . K[p]} for a tile's four tokens and the positions
     * [p0, end) of one KV block (keys from {@code k0}): eight keys per token at a time where
     * {@link PagedAttention#EIGHT_KEYS}, the rest (or all) four tokens by two keys; each score summed as
     * {@link Vectors#dot} sums it (one accumulator, the lane tree, the tail).
     */
    private static void scores(float[] q, int qh, int qStride, float[] keys, int k0, int slotSize, int headDim,
                               int p0, int end, float scale, float[] scratch, int sOff, int stride) {
        int upper = FLOAT.loopBound(headDim);
        int q1 = qh + qStride;
        int q2 = q1 + qStride;
        int q3 = q2 + qStride;
        int s0 = sOff;
        int s1 = s0 + stride;
        int s2 = s1 + stride;
        int s3 = s2 + stride;
        int p = p0;
        if (PagedAttention.EIGHT_KEYS && upper == headDim && end - p0 >= 8) {
            int last = p0 + (end - p0) / 8 * 8;
            for (int i = 0; i < QUERIES; i++) {
                for (int pp = p0, k = k0; pp < last; pp += 8, k += 8 * slotSize) {
                    PagedAttention.eightScores(q, qh + i * qStride, keys, k, slotSize, headDim, scale, scratch,
                            sOff + i * stride + pp);
                }
            }
            k0 += (last - p0) * slotSize;
            p = last;
        }
        for (; p + 2 <= end; p += 2, k0 += 2 * slotSize) {
            int k1 = k0 + slotSize;
            FloatVector a00 = FloatVector.zero(FLOAT); // token 0, key p
            FloatVector a01 = a00;                     // token 0, key p + 1
            FloatVector a10 = a00;
            FloatVector a11 = a00;
            FloatVector a20 = a00;
            FloatVector a21 = a00;
            FloatVector a30 = a00;
            FloatVector a31 = a00;
            for (int d = 0; d < upper; d += LANES) {
                FloatVector key0 = FloatVector.fromArray(FLOAT, keys, k0 + d);
                FloatVector key1 = FloatVector.fromArray(FLOAT, keys, k1 + d);
                FloatVector qv = FloatVector.fromArray(FLOAT, q, qh + d);
                a00 = qv.fma(key0, a00);
                a01 = qv.fma(key1, a01);
                qv = FloatVector.fromArray(FLOAT, q, q1 + d);
                a10 = qv.fma(key0, a10);
                a11 = qv.fma(key1, a11);
                qv = FloatVector.fromArray(FLOAT, q, q2 + d);
                a20 = qv.fma(key0, a20);
                a21 = qv.fma(key1, a21);
                qv = FloatVector.fromArray(FLOAT, q, q3 + d);
                a30 = qv.fma(key0, a30);
                a31 = qv.fma(key1, a31);
            }
            scratch[s0 + p] = Vectors.tail(q, qh, keys, k0, upper, headDim, Vectors.sum(a00)) * scale;
            scratch[s0 + p + 1] = Vectors.tail(q, qh, keys, k1, upper, headDim, Vectors.sum(a01)) * scale;
            scratch[s1 + p] = Vectors.tail(q, q1, keys, k0, upper, headDim, Vectors.sum(a10)) * scale;
            scratch[s1 + p + 1] = Vectors.tail(q, q1, keys, k1, upper, headDim, Vectors.sum(a11)) * scale;
            scratch[s2 + p] = Vectors.tail(q, q2, keys, k0, upper, headDim, Vectors.sum(a20)) * scale;
            scratch[s2 + p + 1] = Vectors.tail(q, q2, keys, k1, upper, headDim, Vectors.sum(a21)) * scale;
            scratch[s3 + p] = Vectors.tail(q, q3, keys, k0, upper, headDim, Vectors.sum(a30)) * scale;
            scratch[s3 + p + 1] = Vectors.tail(q, q3, keys, k1, upper, headDim, Vectors.sum(a31)) * scale;
        }
        if (p < end) {
            scratch[s0 + p] = Vectors.dot(q, qh, keys, k0, headDim) * scale;
            scratch[s1 + p] = Vectors.dot(q, q1, keys, k0, headDim) * scale;
            scratch[s2 + p] = Vectors.dot(q, q2, keys, k0, headDim) * scale;
            scratch[s3 + p] = Vectors.dot(q, q3, keys, k0, headDim) * scale;
        }
    }

    /**
     * {@code out_i = sum_p scratch[i * stride + p] * V[p]} for each token i over the positions its whole tile
     * attends to, [first, end0 + 4j) for tile j, in position order. Positions are taken one KV block at a time,
     * and each block's values for every tile in turn, in slices of two vectors (then one, then single floats),
     * each tile's sums loaded from {@code out} and stored back around the block: the same FMAs in the same order
     * as one pass over all positions, but a block's values are read from memory once for all tiles and then
     * found in L1.
     * NOTE: one pass over all positions per tile and slice, the order before, read each value line once per
     * tile from L3: a head's values sit one slot (numKvHeads * headDim floats, 3 KiB for a 768-wide model) apart,
     * a stride that maps the positions onto a sixteenth of L2's sets, so the next tile did not find them in L2.
     */
    private static void weightedValues(float[] values, int[] blockTable, int bs, int slotSize, int headOff,
                                       int headDim, int tiles, int first, int end0, float[] scratch, int stride,
                                       float[] out, int outOff, int outStride) {
        for (int i = 0; i < tiles * QUERIES; i++) {
            Arrays.fill(out, outOff + i * outStride, outOff + i * outStride + headDim, 0f);
        }
        int upper = FLOAT.loopBound(headDim);
        int jointEnd = end0 + (tiles - 1) * QUERIES;
        for (int p = first; p < jointEnd; ) {
            int runEnd = PagedAttention.runEnd(p, bs, jointEnd);
            int v = PagedAttention.offset(blockTable, bs, slotSize, headOff, p);
            for (int j = 0; j < tiles; j++) {
                int i = j * QUERIES;
                int e = Math.min(runEnd, end0 + i);
                if (p >= e) {
                    continue;
                }
                int o = outOff + i * outStride;
                int d = 0;
                for (; d + 2 * LANES <= upper; d += 2 * LANES) {
                    twoVectors(values, v + d, slotSize, p, e, scratch, i * stride, stride, out, o + d, outStride);
                }
                for (; d < upper; d += LANES) {
                    oneVector(values, v + d, slotSize, p, e, scratch, i * stride, stride, out, o + d, outStride);
                }
                for (; d < headDim; d++) {
                    oneFloat(values, v + d, slotSize, p, e, scratch, i * stride, stride, out, o + d, outStride);
                }
            }
            p = runEnd;
        }
    }

    /**
     * Two value vectors from {@code values[v ..]} (position p0's slice; the next positions {@code slotSize} on)
     * for positions [p0, end) of one KV block and one tile, FMA'd into the sums at {@code out[oOff + i * outStride]}.
     */
    private static void twoVectors(float[] values, int v, int slotSize, int p0, int end, float[] scratch, int s0,
                                   int stride, float[] out, int oOff, int outStride) {
        int s1 = s0 + stride;
        int s2 = s1 + stride;
        int s3 = s2 + stride;
        int o1 = oOff + outStride;
        int o2 = o1 + outStride;
        int o3 = o2 + outStride;
        FloatVector a00 = FloatVector.fromArray(FLOAT, out, oOff); // token 0, first vector
        FloatVector a01 = FloatVector.fromArray(FLOAT, out, oOff + LANES); // token 0, second vector
        FloatVector a10 = FloatVector.fromArray(FLOAT, out, o1);
        FloatVector a11 = FloatVector.fromArray(FLOAT, out, o1 + LANES);
        FloatVector a20 = FloatVector.fromArray(FLOAT, out, o2);
        FloatVector a21 = FloatVector.fromArray(FLOAT, out, o2 + LANES);
        FloatVector a30 = FloatVector.fromArray(FLOAT, out, o3);
        FloatVector a31 = FloatVector.fromArray(FLOAT, out, o3 + LANES);
        for (int p = p0; p < end; p++, v += slotSize) {
            FloatVector v0 = FloatVector.fromArray(FLOAT, values, v);
            FloatVector v1 = FloatVector.fromArray(FLOAT, values, v + LANES);
            FloatVector w = FloatVector.broadcast(FLOAT, scratch[s0 + p]);
            a00 = v0.fma(w, a00);
            a01 = v1.fma(w, a01);
            w = FloatVector.broadcast(FLOAT, scratch[s1 + p]);
            a10 = v0.fma(w, a10);
            a11 = v1.fma(w, a11);
            w = FloatVector.broadcast(FLOAT, scratch[s2 + p]);
            a20 = v0.fma(w, a20);
            a21 = v1.fma(w, a21);
            w = FloatVector.broadcast(FLOAT, scratch[s3 + p]);
            a30 = v0.fma(w, a30);
            a31 = v1.fma(w, a31);
        }
        a00.intoArray(out, oOff);
        a01.intoArray(out, oOff + LANES);
        a10.intoArray(out, o1);
        a11.intoArray(out, o1 + LANES);
        a20.intoArray(out, o2);
        a21.intoArray(out, o2 + LANES);
        a30.intoArray(out, o3);
        a31.intoArray(out, o3 + LANES);
    }

    /** As {@link #twoVectors}, one vector. */
    private static void oneVector(float[] values, int v, int slotSize, int p0, int end, float[] scratch, int s0,
                                  int stride, float[] out, int oOff, int outStride) {
        int s1 = s0 + stride;
        int s2 = s1 + stride;
        int s3 = s2 + stride;
        FloatVector a0 = FloatVector.fromArray(FLOAT, out, oOff);
        FloatVector a1 = FloatVector.fromArray(FLOAT, out, oOff + outStride);
        FloatVector a2 = FloatVector.fromArray(FLOAT, out, oOff + 2 * outStride);
        FloatVector a3 = FloatVector.fromArray(FLOAT, out, oOff + 3 * outStride);
        for (int p = p0; p < end; p++, v += slotSize) {
            FloatVector v0 = FloatVector.fromArray(FLOAT, values, v);
            a0 = v0.fma(FloatVector.broadcast(FLOAT, scratch[s0 + p]), a0);
            a1 = v0.fma(FloatVector.broadcast(FLOAT, scratch[s1 + p]), a1);
            a2 = v0.fma(FloatVector.broadcast(FLOAT, scratch[s2 + p]), a2);
            a3 = v0.fma(FloatVector.broadcast(FLOAT, scratch[s3 + p]), a3);
        }
        a0.intoArray(out, oOff);
        a1.intoArray(out, oOff + outStride);
        a2.intoArray(out, oOff + 2 * outStride);
        a3.intoArray(out, oOff + 3 * outStride);
    }

    /** As {@link #twoVectors}, one float (the lanes past the last whole vector). */
    private static void oneFloat(float[] values, int v, int slotSize, int p0, int end, float[] scratch, int s0,
                                 int stride, float[] out, int oOff, int outStride) {
        float a0 = out[oOff];
        float a1 = out[oOff + outStride];
        float a2 = out[oOff + 2 * outStride];
        float a3 = out[oOff + 3 * outStride];
        for (int p = p0; p < end; p++, v += slotSize) {
            float x = values[v];
            a0 = Math.fma(x, scratch[s0 + p], a0);
            a1 = Math.fma(x, scratch[s0 + stride + p], a1);
            a2 = Math.fma(x, scratch[s0 + 2 * stride + p], a2);
            a3 = Math.fma(x, scratch[s0 + 3 * stride + p], a3);
        }
        out[oOff] = a0;
        out[oOff + outStride] = a1;
        out[oOff + 2 * outStride] = a2;
        out[oOff + 3 * outStride] = a3;
    }

    /** {@code out[outOff + d] += w * V[d]} as one more position's FMA, lane for lane as the kernels take it. */
    private static void addWeighted(float[] values, int v, int headDim, float w, float[] out, int outOff) {
        int upper = FLOAT.loopBound(headDim);
        FloatVector wv = FloatVector.broadcast(FLOAT, w);
        int d = 0;
        for (; d < upper; d += LANES) {
            FloatVector.fromArray(FLOAT, values, v + d).fma(wv, FloatVector.fromArray(FLOAT, out, outOff + d))
                    .intoArray(out, outOff + d);
        }
        for (; d < headDim; d++) {
            out[outOff + d] = Math.fma(values[v + d], w, out[outOff + d]);
        }
    }
}
