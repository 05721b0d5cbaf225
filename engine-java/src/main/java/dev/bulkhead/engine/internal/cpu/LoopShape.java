package dev.bulkhead.engine.internal.cpu;

/**
 * Keeps C2 from unrolling a register-tiled loop. A tile loop holds eight accumulators; unrolled four times,
 * C2 schedules the loads of all four steps first and spills them and the accumulators to the stack (seen in
 * its assembly on AVX2, JDK 25), which costs a third of the tile's speed. C2 does not unroll a loop whose
 * body it estimates as larger than {@code LoopUnrollLimit}, and it counts a 64-bit multiply as ten nodes; a
 * multiply by a value it cannot fold keeps the estimate above the limit for one imul per iteration.
 */
final class LoopShape {

    /** 1, read from an array so that C2 cannot fold it. */
    private static final long[] ONE = {1L};

    private LoopShape() {
    }

    /**
     * Called once per iteration of a tile loop with its index; never throws (an int times 1 is never
     * {@code Long.MIN_VALUE}).
     */
    static void keepRolled(int index) {
        if (index * ONE[0] == Long.MIN_VALUE) {
            throw new AssertionError("unreachable");
        }
    }
}
