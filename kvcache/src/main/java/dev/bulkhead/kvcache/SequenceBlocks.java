package dev.bulkhead.kvcache;

import java.util.Arrays;

/** One sequence's block table plus where its hash chain stands (how many leading full blocks were offered). */
final class SequenceBlocks {

    final long salt;
    private int[] blocks;
    private int size;
    /** Leading blocks already offered to the prefix cache (or taken from it). */
    int numHashed;
    /** Chain hash of block {@code numHashed - 1}, or the root hash. */
    long chainHash;
    /** The block standing for block {@code numHashed - 1}'s content (see {@link BlockPool#register}). */
    int parent;
    int parentGeneration;

    SequenceBlocks(long salt, long rootHash, int initialCapacity) {
        this.salt = salt;
        this.blocks = new int[Math.max(4, initialCapacity)];
        this.chainHash = rootHash;
        this.parent = BlockPool.NULL_BLOCK;
    }

    int size() {
        return size;
    }

    int get(int i) {
        return blocks[i];
    }

    void add(int block) {
        if (size == blocks.length) {
            blocks = Arrays.copyOf(blocks, size * 2);
        }
        blocks[size++] = block;
    }

    int[] toArray() {
        return Arrays.copyOf(blocks, size);
    }
}
