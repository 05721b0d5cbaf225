package dev.bulkhead.model.tensor;

/**
 * Storage type of a weight tensor. Quantized types store {@link #blockSize()} elements in
 * {@link #bytesPerBlock()} bytes, laid out along the innermost (column) dimension exactly as ggml does.
 */
public enum DType {
    F32(1, 4),
    F16(1, 2),
    BF16(1, 2),
    /** ggml Q8_0: per 32 values one f16 scale then 32 int8. */
    Q8_0(32, 34),
    /** ggml Q4_0: per 32 values one f16 scale then 16 bytes of 4-bit values (low nibbles first half). */
    Q4_0(32, 18),
    /** ggml Q4_K: super-block of 256 values: f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles. */
    Q4_K(256, 144),
    /** ggml Q6_K: super-block of 256 values: 128 bytes low 4 bits, 64 bytes high 2 bits, 16 int8 scales, f16 d. */
    Q6_K(256, 210);

    private final int blockSize;
    private final int bytesPerBlock;

    DType(int blockSize, int bytesPerBlock) {
        this.blockSize = blockSize;
        this.bytesPerBlock = bytesPerBlock;
    }

    /** Elements per storage block (1 for plain floating point types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per storage block. */
    public int bytesPerBlock() {
        return bytesPerBlock;
    }

    public boolean isQuantized() {
        return blockSize > 1;
    }

    /**
     * Bytes needed to store {@code elements} values of this type.
     *
     * @throws IllegalArgumentException when {@code elements} is not a multiple of the block size
     */
    public long byteSize(long elements) {
        if (elements % blockSize != 0) {
            throw new IllegalArgumentException(
                    name() + " stores blocks of " + blockSize + " values; " + elements + " is not a multiple");
        }
        return elements / blockSize * bytesPerBlock;
    }
}
