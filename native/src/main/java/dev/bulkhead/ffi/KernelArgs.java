package dev.bulkhead.ffi;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The {@code void** kernelParams} of {@code cuLaunchKernel} for one signature, allocated once in an arena and
 * refilled before every launch: slot i is 8 bytes at {@code values + 8 i} and {@code pointers[i]} points to
 * it. The driver copies the arguments at launch, so a launch site can reuse one instance and the hot loop
 * allocates nothing. Not thread safe: one instance per launch site.
 */
public final class KernelArgs {

    private static final long SLOT = 8;

    private final KernelSignature signature;
    private final MemorySegment values;   // (arity) 8-byte slots
    private final MemorySegment pointers; // (arity) addresses of the slots
    private long setMask;

    /** Packing space for {@code signature} in {@code arena} (which must outlive every launch with it). */
    public KernelArgs(Arena arena, KernelSignature signature) {
        this.signature = signature;
        int n = Math.max(1, signature.arity());
        this.values = arena.allocate(SLOT * n, SLOT);
        this.pointers = arena.allocate(ADDRESS.byteSize() * n, ADDRESS.byteAlignment());
        for (int i = 0; i < signature.arity(); i++) {
            pointers.setAtIndex(ADDRESS, i, values.asSlice(SLOT * i, SLOT));
        }
    }

    public KernelSignature signature() {
        return signature;
    }

    public KernelArgs ptr(int i, DevicePtr p) {
        values.set(JAVA_LONG, slot(i, ParamType.PTR), p.address());
        return this;
    }

    public KernelArgs i32(int i, int v) {
        values.set(JAVA_INT, slot(i, ParamType.I32), v);
        return this;
    }

    public KernelArgs f32(int i, float v) {
        values.set(JAVA_FLOAT, slot(i, ParamType.F32), v);
        return this;
    }

    public KernelArgs i64(int i, long v) {
        values.set(JAVA_LONG, slot(i, ParamType.I64), v);
        return this;
    }

    /** The packed array to pass as {@code kernelParams}; fails if a parameter was never set. */
    public MemorySegment pointers() {
        long all = signature.arity() == 64 ? -1L : (1L << signature.arity()) - 1;
        if (setMask != all) {
            int missing = Long.numberOfTrailingZeros(~setMask & all);
            throw new IllegalStateException(signature.name() + ": parameter " + missing + " ("
                    + signature.params().get(missing).name() + ") was never set");
        }
        return pointers;
    }

    /** The raw slot bytes (for tests: what the driver will read for parameter i starts at 8 i). */
    MemorySegment values() {
        return values;
    }

    private long slot(int i, ParamType type) {
        if (i < 0 || i >= signature.arity()) {
            throw new IndexOutOfBoundsException(signature.name() + " has " + signature.arity()
                    + " parameters, no index " + i);
        }
        KernelSignature.Param p = signature.params().get(i);
        if (p.type() != type) {
            throw new IllegalArgumentException(signature.name() + " parameter " + i + " (" + p.name() + ") is "
                    + p.type() + ", not " + type);
        }
        setMask |= 1L << i;
        return SLOT * i;
    }
}
