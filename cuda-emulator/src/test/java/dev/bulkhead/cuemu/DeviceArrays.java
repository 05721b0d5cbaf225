package dev.bulkhead.cuemu;

import dev.bulkhead.ffi.CudaContext;
import dev.bulkhead.ffi.CudaMemory;
import dev.bulkhead.ffi.DevicePtr;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Java arrays to and from device memory for tests, through blocking copies (which do not wait for work queued
 * on a non-blocking stream: synchronize it first). Allocations belong to the context and die with it.
 */
public final class DeviceArrays {

    private DeviceArrays() {
    }

    /** Copies {@code host} into a new allocation of its size. */
    public static DevicePtr upload(CudaContext ctx, MemorySegment host) {
        DevicePtr p = ctx.alloc(host.byteSize()).ptr();
        CudaMemory.copyHtoD(p, host, host.byteSize());
        return p;
    }

    public static DevicePtr floats(CudaContext ctx, float[] v) {
        MemorySegment h = ctx.arena().allocate(4L * Math.max(1, v.length), 4);
        MemorySegment.copy(v, 0, h, ValueLayout.JAVA_FLOAT, 0, v.length);
        return upload(ctx, h);
    }

    public static DevicePtr ints(CudaContext ctx, int[] v) {
        MemorySegment h = ctx.arena().allocate(4L * Math.max(1, v.length), 4);
        MemorySegment.copy(v, 0, h, ValueLayout.JAVA_INT, 0, v.length);
        return upload(ctx, h);
    }

    public static DevicePtr longs(CudaContext ctx, long[] v) {
        MemorySegment h = ctx.arena().allocate(8L * Math.max(1, v.length), 8);
        MemorySegment.copy(v, 0, h, ValueLayout.JAVA_LONG, 0, v.length);
        return upload(ctx, h);
    }

    private static MemorySegment read(CudaContext ctx, DevicePtr p, long bytes, long alignment) {
        MemorySegment h = ctx.arena().allocate(bytes, alignment);
        CudaMemory.copyDtoH(h, p, bytes);
        return h;
    }

    public static float[] readFloats(CudaContext ctx, DevicePtr p, int n) {
        return read(ctx, p, 4L * n, 4).toArray(ValueLayout.JAVA_FLOAT);
    }

    public static int[] readInts(CudaContext ctx, DevicePtr p, int n) {
        return read(ctx, p, 4L * n, 4).toArray(ValueLayout.JAVA_INT);
    }

    public static long[] readLongs(CudaContext ctx, DevicePtr p, int n) {
        return read(ctx, p, 8L * n, 8).toArray(ValueLayout.JAVA_LONG);
    }

    public static short[] readShorts(CudaContext ctx, DevicePtr p, int n) {
        return read(ctx, p, 2L * n, 2).toArray(ValueLayout.JAVA_SHORT);
    }
}
