package dev.bulkhead.ffi;

import java.lang.foreign.MemorySegment;

/** Typed driver handles: opaque pointers that must not be mixed up. Ownership lies with {@link CudaContext}. */
public final class Handles {

    private Handles() {
    }

    /** {@code CUstream}; {@link #DEFAULT} is the legacy default stream. */
    public record Stream(MemorySegment handle) {
        public static final Stream DEFAULT = new Stream(MemorySegment.NULL);
    }

    /** {@code CUmodule}: a loaded fatbin, cubin or PTX image. */
    public record Module(MemorySegment handle) {
    }

    /** {@code CUfunction}: a kernel of a module, with its name for messages. */
    public record Function(MemorySegment handle, String name) {
    }

    /** {@code CUevent}. */
    public record Event(MemorySegment handle) {
    }

    /** {@code CUgraph}: a captured stream sequence. */
    public record Graph(MemorySegment handle) {
    }

    /** {@code CUgraphExec}: an instantiated graph ready to launch. */
    public record GraphExec(MemorySegment handle) {
    }

    /** {@code CUcontext}. */
    public record Context(MemorySegment handle) {
    }

    /** A grid or block shape. */
    public record Dim3(int x, int y, int z) {
        public Dim3 {
            if (x < 1 || y < 1 || z < 1) {
                throw new IllegalArgumentException("launch dimensions must be >= 1, got (" + x + ", " + y + ", " + z + ")");
            }
        }

        public static Dim3 of(int x) {
            return new Dim3(x, 1, 1);
        }

        public static Dim3 of(int x, int y) {
            return new Dim3(x, y, 1);
        }
    }
}
