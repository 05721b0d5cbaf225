package dev.bulkhead.engine.internal.cuda;

import dev.bulkhead.kernels.Kernel;

/**
 * How one step's split-K decode attention cuts the contexts: {@code partitions} blocks per (query, head), each
 * over {@code partitionSize} keys. Chosen per step from the longest context of the step's decode queries, so
 * that a small batch still gives the device at least two blocks per multiprocessor (a batch-1 step of a
 * 32-head model on 132 SMs needs 9 partitions), no partition is shorter than {@link #MIN_PARTITION} keys (the
 * merge would cost more than the split saves), and the kernel's dynamic shared memory
 * ({@link Kernel#decodeSharedBytes}) stays within the 48 KiB every launch may use without opting in.
 *
 * @param partitionSize keys per partition
 * @param partitions    partitions of the longest context (grid z of the decode kernel)
 */
public record DecodeSplit(int partitionSize, int partitions) {

    /** Fewest keys worth a partition of their own. */
    public static final int MIN_PARTITION = 64;
    /** Dynamic shared memory a launch may use without {@code cuFuncSetAttribute}. */
    public static final int DEFAULT_SHARED_BYTES = 48 * 1024;

    public DecodeSplit {
        if (partitionSize < 1 || partitions < 1) {
            throw new IllegalArgumentException("partitionSize and partitions must be >= 1, got " + partitionSize
                    + " and " + partitions);
        }
    }

    /** The longest partition whose scores fit the default dynamic shared memory beside the kernel's other arrays. */
    public static int maxPartitionSize(int headDim) {
        return (DEFAULT_SHARED_BYTES - Kernel.decodeSharedBytes(headDim, 0)) / 4;
    }

    /**
     * The split for a step.
     *
     * @param queries         decode queries this step (at least 1)
     * @param heads           query heads
     * @param maxContext      longest context among them, in keys
     * @param headDim         head size
     * @param multiprocessors the device's SM count
     */
    public static DecodeSplit choose(int queries, int heads, int maxContext, int headDim, int multiprocessors) {
        int longest = maxPartitionSize(headDim);
        int forOccupancy = ceilDiv(2 * multiprocessors, queries * heads);
        int byLength = ceilDiv(maxContext, MIN_PARTITION);
        int partitions = Math.max(Math.max(1, Math.min(forOccupancy, byLength)), ceilDiv(maxContext, longest));
        // NOTE: an exact size, not one rounded up to a warp multiple, which could leave fewer partitions.
        int size = ceilDiv(Math.max(1, maxContext), partitions);
        return new DecodeSplit(size, ceilDiv(Math.max(1, maxContext), size));
    }

    /**
     * The most (query, partition) pairs any step of up to {@code maxQueries} queries over contexts up to
     * {@code maxContext} can need: what the partial-result buffers are sized for.
     */
    public static long maxPairs(int maxQueries, int heads, int maxContext, int headDim, int multiprocessors) {
        long bySharedMemory = (long) maxQueries * ceilDiv(maxContext, maxPartitionSize(headDim));
        long forOccupancy = ceilDiv(2 * multiprocessors, heads) + (long) maxQueries;
        return Math.max(bySharedMemory, forOccupancy);
    }

    /** Dynamic shared memory of the decode kernel for this split. */
    public int sharedBytes(int headDim) {
        return Kernel.decodeSharedBytes(headDim, partitionSize);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
