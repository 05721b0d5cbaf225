package dev.bulkhead.model.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One named weight: its storage type, its shape in row-major order (outermost first, as PyTorch and
 * safetensors write it: a Linear weight is {@code [outFeatures, inFeatures]}) and a zero-copy view of
 * its bytes (usually a slice of a memory-mapped file, little endian).
 */
public record WeightTensor(String name, DType dtype, long[] shape, MemorySegment data) {

    public WeightTensor {
        shape = shape.clone();
        long expected = dtype.byteSize(elementCount(shape));
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("tensor " + name + ": " + dtype + " " + Arrays.toString(shape)
                    + " needs " + expected + " bytes but has " + data.byteSize());
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i} (0 = outermost). */
    public long dim(int i) {
        return shape[i];
    }

    public long elementCount() {
        return elementCount(shape);
    }

    /** Rows of a matrix (the outer dimension); 1 for a vector. */
    public int rows() {
        return shape.length == 1 ? 1 : Math.toIntExact(shape[0]);
    }

    /** Columns of a matrix (the innermost, contiguous dimension). */
    public int cols() {
        return Math.toIntExact(shape[shape.length - 1]);
    }

    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WeightTensor t && t.name.equals(name) && t.dtype == dtype
                && Arrays.equals(t.shape, shape) && t.data.equals(data);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }
}
