package dev.bulkhead.engine.internal.runner;

import dev.bulkhead.kvcache.AutoKvBudget;
import dev.bulkhead.kvcache.KvMemoryLimit;

/**
 * What the CPU backend's KV pool may take when it is sized automatically. That pool is float arrays on the Java
 * heap, allocated once at start, so the only memory that counts is the heap this JVM actually has, not the
 * machine's: a pool sized from physical memory would end in an {@link OutOfMemoryError} at start.
 *
 * <p>The limit is the smaller of two rules, measured after the model loaded:
 * <ul>
 *   <li>at most 3/4 of the heap's maximum: the rule {@code ./bulkhead} sizes {@code -Xmx} by
 *       ({@code .mvn/heap-size.sh} gives the heap KV &times; 4/3 plus a fixed part) and {@code serve} checks an
 *       explicit {@code --kv-cache-mb} against;</li>
 *   <li>what is left after the heap in use now (the model's heap parts, the tokenizer, an embedding application's
 *       own objects) and 1/8 of the heap kept free for the runner's step buffers, requests in flight and garbage
 *       between collections.</li>
 * </ul>
 * The heap in use counts garbage not yet collected, so the limit errs small, never into an out-of-memory error.
 * It is also kept within what one layer's K array of {@code CpuKvCache} can index.
 *
 * @param maxHeapBytes  the most the heap may grow to ({@link Runtime#maxMemory()})
 * @param usedHeapBytes the heap in use now ({@link Runtime#totalMemory()} - {@link Runtime#freeMemory()})
 */
public record HeapKvLimit(long maxHeapBytes, long usedHeapBytes) {

    /** Floats one layer's K (or V) array of the CPU cache may hold (a Java array's practical maximum). */
    static final long MAX_LAYER_FLOATS = Integer.MAX_VALUE - 8;

    public HeapKvLimit {
        if (maxHeapBytes < 1 || usedHeapBytes < 0) {
            throw new IllegalArgumentException("maxHeapBytes must be >= 1 and usedHeapBytes >= 0, got " + maxHeapBytes
                    + ", " + usedHeapBytes);
        }
    }

    /** This JVM's heap, now. */
    public static HeapKvLimit current() {
        Runtime r = Runtime.getRuntime();
        return new HeapKvLimit(r.maxMemory(), r.totalMemory() - r.freeMemory());
    }

    /**
     * The limit for a pool of {@code kvBytesPerToken} bytes a token (f32 K and V of every layer) whose layers hold
     * {@code kvDim} floats a token each in K and in V.
     */
    public KvMemoryLimit kvLimit(int kvDim, long kvBytesPerToken) {
        if (kvDim < 1 || kvBytesPerToken < 1) {
            throw new IllegalArgumentException("kvDim and kvBytesPerToken must be >= 1, got " + kvDim + ", "
                    + kvBytesPerToken);
        }
        long share = maxHeapBytes - maxHeapBytes / 4;
        long headroom = maxHeapBytes / 8;
        long left = Math.max(0, maxHeapBytes - usedHeapBytes - headroom);
        long arrays = MAX_LAYER_FLOATS / kvDim * kvBytesPerToken;
        String heap = "the JVM's " + AutoKvBudget.mib(maxHeapBytes) + " maximum heap (-Xmx; BULKHEAD_JAVA_OPTS for "
                + "./bulkhead)";
        if (arrays < Math.min(share, left)) {
            return new KvMemoryLimit(arrays, "the largest KV array of one layer the CPU backend can index: "
                    + MAX_LAYER_FLOATS / kvDim + " tokens");
        }
        return share <= left
                ? new KvMemoryLimit(share, "3/4 of " + heap)
                : new KvMemoryLimit(left, heap + " less " + AutoKvBudget.mib(usedHeapBytes) + " in use and "
                        + AutoKvBudget.mib(headroom) + " (1/8) kept free for step buffers and requests");
    }
}
