package dev.bulkhead.engine.internal.cpu;

import java.util.Objects;

/**
 * The paged KV cache of the CPU backend: per layer, K and V as {@code [numBlocks, blockSize, numKvHeads,
 * headDim]} float arrays (the layout both backends share). A slot is {@code block * blockSize + offset};
 * which blocks belong to which sequence is the block pool's business, not this class's.
 *
 * <p>Writes to distinct slots may run concurrently; a slot must not be written while it is being read.
 */
public final class CpuKvCache {

    private final int numLayers;
    private final int numBlocks;
    private final int blockSize;
    private final int numKvHeads;
    private final int headDim;
    private final int slotSize;
    private final float[][] keys;   // (layer) -> (numBlocks, blockSize, numKvHeads, headDim)
    private final float[][] values; // (layer) -> (numBlocks, blockSize, numKvHeads, headDim)

    public CpuKvCache(int numLayers, int numBlocks, int blockSize, int numKvHeads, int headDim) {
        requirePositive("numLayers", numLayers);
        requirePositive("numBlocks", numBlocks);
        requirePositive("blockSize", blockSize);
        requirePositive("numKvHeads", numKvHeads);
        requirePositive("headDim", headDim);
        long perLayer = (long) numBlocks * blockSize * numKvHeads * headDim;
        if (perLayer > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("numBlocks * blockSize * numKvHeads * headDim must be <= "
                    + (Integer.MAX_VALUE - 8) + " floats per layer, got " + perLayer);
        }
        this.numLayers = numLayers;
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.numKvHeads = numKvHeads;
        this.headDim = headDim;
        this.slotSize = numKvHeads * headDim;
        this.keys = new float[numLayers][(int) perLayer];
        this.values = new float[numLayers][(int) perLayer];
    }

    private static void requirePositive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, got " + value);
        }
    }

    /**
     * Stores one token's K and V (each {@code numKvHeads * headDim} floats, heads contiguous) in {@code slot}
     * of {@code layer}.
     */
    public void write(int layer, int slot, float[] k, int kOff, float[] v, int vOff) {
        Objects.checkIndex(layer, numLayers);
        Objects.checkIndex(slot, numBlocks * blockSize);
        System.arraycopy(k, kOff, keys[layer], slot * slotSize, slotSize);
        System.arraycopy(v, vOff, values[layer], slot * slotSize, slotSize);
    }

    /** Live K array of {@code layer}, {@code [numBlocks, blockSize, numKvHeads, headDim]}. */
    public float[] keys(int layer) {
        return keys[layer];
    }

    /** Live V array of {@code layer}, {@code [numBlocks, blockSize, numKvHeads, headDim]}. */
    public float[] values(int layer) {
        return values[layer];
    }

    public int numLayers() {
        return numLayers;
    }

    public int numBlocks() {
        return numBlocks;
    }

    public int blockSize() {
        return blockSize;
    }

    public int numKvHeads() {
        return numKvHeads;
    }

    public int headDim() {
        return headDim;
    }

    /** Floats per slot (one token of one layer): {@code numKvHeads * headDim}. */
    public int slotSize() {
        return slotSize;
    }
}
