package dev.bulkhead.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.CyclicBarrier;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's sustained read bandwidth as a decode step sees it: threads sum disjoint slices of an
 * off-heap buffer much larger than the caches with the widest float vectors, like a matrix-vector product
 * streams its weights. The best of several passes is reported, since other work on the machine only ever
 * makes a pass slower.
 */
public final class MemoryBandwidth {

    private static final VectorSpecies<Float> FLOAT = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private MemoryBandwidth() {
    }

    /**
     * Measured read bandwidth, in bytes per second.
     *
     * @param bytes   buffer size; at least 64 MiB so the caches do not count
     * @param threads reader threads
     * @param passes  passes over the buffer; the fastest counts
     */
    public static double measure(long bytes, int threads, int passes) {
        if (bytes < (64L << 20)) {
            throw new IllegalArgumentException("bytes must be >= 64 MiB to defeat the caches, got " + bytes);
        }
        if (threads < 1 || threads > 1024) {
            throw new IllegalArgumentException("threads must be in [1, 1024], got " + threads);
        }
        if (passes < 1) {
            throw new IllegalArgumentException("passes must be >= 1, got " + passes);
        }
        long slice = bytes / threads / FLOAT.vectorByteSize() / 4 * FLOAT.vectorByteSize() * 4;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(slice * threads, 64);
            // NOTE: 0x3F bytes are the float 0.747; zero pages could be shared by the OS and denormals slow FP.
            buf.fill((byte) 0x3F);
            double best = 0;
            for (int p = 0; p < passes; p++) {
                best = Math.max(best, slice * threads / pass(buf, slice, threads));
            }
            return best;
        }
    }

    /** Seconds for all threads to read their slices once. */
    private static double pass(MemorySegment buf, long slice, int threads) {
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        Thread[] workers = new Thread[threads];
        float[] sums = new float[threads];
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers[t] = Thread.ofPlatform().start(() -> {
                await(start);
                sums[id] = sum(buf, id * slice, slice);
            });
        }
        await(start);
        long t0 = System.nanoTime();
        for (Thread w : workers) {
            try {
                w.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while measuring bandwidth", e);
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        float total = 0;
        for (float s : sums) {
            total += s;
        }
        if (Float.isNaN(total)) {
            // NOTE: consumes the sums so the reads cannot be dropped as dead code.
            throw new IllegalStateException("bandwidth buffer summed to NaN");
        }
        return seconds;
    }

    /** Sum of the floats in [offset, offset + length), four independent accumulators deep. */
    static float sum(MemorySegment buf, long offset, long length) {
        long step = FLOAT.vectorByteSize();
        FloatVector a0 = FloatVector.zero(FLOAT);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (long o = offset, end = offset + length; o < end; o += 4 * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(FLOAT, buf, o, ORDER));
            a1 = a1.add(FloatVector.fromMemorySegment(FLOAT, buf, o + step, ORDER));
            a2 = a2.add(FloatVector.fromMemorySegment(FLOAT, buf, o + 2 * step, ORDER));
            a3 = a3.add(FloatVector.fromMemorySegment(FLOAT, buf, o + 3 * step, ORDER));
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await();
        } catch (Exception e) {
            throw new IllegalStateException("bandwidth threads could not start together", e);
        }
    }
}
