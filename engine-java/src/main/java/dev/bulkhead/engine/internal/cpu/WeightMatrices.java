package dev.bulkhead.engine.internal.cpu;

import dev.bulkhead.model.tensor.WeightTensor;
import java.lang.foreign.Arena;

/** Builds the {@link WeightMatrix} for a tensor's storage type and runs matrix products on a pool. */
public final class WeightMatrices {

    /**
     * Rows per parallel grain: a multiple of the four-row kernel, and 16 floats of output (one 64-byte
     * cache line) per token, so two threads never write the same line.
     */
    static final int ROW_GRAIN = 16;

    private WeightMatrices() {
    }

    /**
     * {@link #of(WeightTensor, Arena)} with its copies in an automatic arena, freed when the matrix is garbage. NOTE:
     * for benchmarks and tests; an automatic arena's memory counts against {@code -XX:MaxDirectMemorySize} (by
     * default the heap's size) and is freed only when the collector finds the matrix unreachable.
     */
    public static WeightMatrix of(WeightTensor t) {
        return of(t, Arena.ofAuto());
    }

    /**
     * A matrix reading {@code t}'s bytes in place (the tensor's memory must stay mapped), except what a type keeps in
     * the kernels' layout ({@link #hostBytes}): allocated in {@code copies}, which must stay open while the matrix
     * is used.
     *
     * @throws IllegalArgumentException when {@code t} is not rank 2, or its column count is not a multiple
     *                                  of its storage block size
     */
    public static WeightMatrix of(WeightTensor t, Arena copies) {
        if (t.rank() != 2) {
            throw new IllegalArgumentException("tensor " + t + " is rank " + t.rank() + ", a weight matrix needs rank 2");
        }
        if (t.cols() % t.dtype().blockSize() != 0) {
            throw new IllegalArgumentException("tensor " + t + ": " + t.cols() + " columns is not a multiple of the "
                    + t.dtype() + " block size " + t.dtype().blockSize());
        }
        return switch (t.dtype()) {
            case F32 -> new F32Matrix(t);
            case BF16 -> new Bf16Matrix(t);
            case F16 -> new F16Matrix(t);
            case Q8_0 -> new Q8Matrix(t);
            case Q4_0 -> new Q4Matrix(t, copies);
            case Q4_K -> new Q4KMatrix(t, copies);
            case Q6_K -> new Q6KMatrix(t, copies);
        };
    }

    /**
     * Bytes that {@link #of} allocates off the heap for {@code t} beside its mapped data: the repacked copies of
     * Q4_0, Q4_K and Q6_K; 0 for the types read in place. Rank-2 tensors only count; anything else is 0.
     * NOTE: a memory budget that counted the mapped file alone would let a Q4_K_M or Q4_0 model take more than
     * it reserved.
     */
    public static long hostBytes(WeightTensor t) {
        if (t.rank() != 2) {
            return 0;
        }
        return switch (t.dtype()) {
            case Q4_K -> Q4KMatrix.packedBytes(t.rows(), t.cols());
            case Q6_K -> Q6KMatrix.packedBytes(t.rows(), t.cols());
            case Q4_0 -> Q4Matrix.packedBytes(t.rows(), t.cols());
            case F32, BF16, F16, Q8_0 -> 0;
        };
    }

    /**
     * {@code out = x W^T} for all rows, the rows split over {@code pool} in grains of {@value #ROW_GRAIN}.
     * The result is bit-identical to a serial {@code w.multiplyRows(x, tokens, out, 0, rows)}. A quantized
     * matrix gets its activations quantized once here, not once per grain.
     */
    public static void parallelMultiply(CpuThreadPool pool, WeightMatrix w, float[] x, int tokens, float[] out) {
        if (w instanceof QuantizedMatrix q) {
            Q8Activations a = quantize(pool, x, tokens, q.cols());
            pool.parallelFor(w.rows(), ROW_GRAIN, (start, end) -> q.multiplyQuantized(a, out, start, end));
            return;
        }
        pool.parallelFor(w.rows(), ROW_GRAIN, (start, end) -> w.multiplyRows(x, tokens, out, start, end));
    }

    /**
     * The first {@code tokens} rows of {@code x} quantized for {@link QuantizedMatrix}. NOTE: one token
     * (decode) is quantized on the caller: a few hundred nanoseconds, less than waking the pool.
     */
    static Q8Activations quantize(CpuThreadPool pool, float[] x, int tokens, int cols) {
        if (tokens < 1) {
            throw new IllegalArgumentException("tokens must be >= 1, got " + tokens);
        }
        return tokens == 1 ? Q8Activations.quantize(x, 1, cols) : Q8Activations.quantize(pool, x, tokens, cols);
    }
}
