package dev.bulkhead.cuemu;

import dev.bulkhead.ffi.CudaContext;
import dev.bulkhead.ffi.CudaDriver;
import dev.bulkhead.ffi.DevicePtr;
import dev.bulkhead.ffi.Handles.Dim3;
import dev.bulkhead.ffi.Handles.Function;
import dev.bulkhead.ffi.Handles.Module;
import dev.bulkhead.ffi.Handles.Stream;
import dev.bulkhead.ffi.KernelArgs;
import dev.bulkhead.ffi.KernelSignature;

/** A context with the probe kernels (probes.cuh) loaded, and small upload/download helpers for the tests. */
final class Probes implements AutoCloseable {

    final CudaContext ctx;
    final Module module;
    final Stream stream;

    Probes() {
        GpuTarget.requireEmulator();
        this.ctx = CudaContext.open(0);
        this.module = ctx.loadModule(CudaEmulator.probeImage());
        this.stream = ctx.createStream();
    }

    Function function(String name) {
        return ctx.function(module, name);
    }

    /** Packs {@code values} (DevicePtr, Integer, Long or Float, in order) for the kernel {@code signature} names. */
    KernelArgs args(String signature, Object... values) {
        KernelArgs a = new KernelArgs(ctx.arena(), KernelSignature.parse(signature));
        for (int i = 0; i < values.length; i++) {
            switch (values[i]) {
                case DevicePtr p -> a.ptr(i, p);
                case Integer v -> a.i32(i, v);
                case Long v -> a.i64(i, v);
                case Float v -> a.f32(i, v);
                default -> throw new IllegalArgumentException(values[i].toString());
            }
        }
        return a;
    }

    /** Queues {@code signature}'s kernel on this stream with {@code values}. */
    void launch(String signature, Dim3 grid, Dim3 block, int sharedBytes, Object... values) {
        KernelArgs a = args(signature, values);
        CudaDriver.launch(function(a.signature().name()), grid, block, sharedBytes, stream, a);
    }

    void sync() {
        CudaDriver.streamSynchronize(stream);
    }

    DevicePtr alloc(long bytes) {
        return ctx.alloc(bytes).ptr();
    }

    DevicePtr floats(float... v) {
        return DeviceArrays.floats(ctx, v);
    }

    float[] readFloats(DevicePtr p, int n) {
        sync();
        return DeviceArrays.readFloats(ctx, p, n);
    }

    int[] readInts(DevicePtr p, int n) {
        sync();
        return DeviceArrays.readInts(ctx, p, n);
    }

    long[] readLongs(DevicePtr p, int n) {
        sync();
        return DeviceArrays.readLongs(ctx, p, n);
    }

    /** Closes the context; one lost to a test's fault is released whole, so the next one starts clean. */
    @Override
    public void close() {
        ctx.close();
    }
}
