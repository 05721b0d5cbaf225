package dev.bulkhead.engine.internal.cuda;

import dev.bulkhead.cuemu.DeviceArrays;
import dev.bulkhead.cuemu.GpuTarget;
import dev.bulkhead.ffi.CudaContext;
import dev.bulkhead.ffi.CudaDriver;
import dev.bulkhead.ffi.CudaMemory;
import dev.bulkhead.ffi.DevicePtr;
import dev.bulkhead.kernels.KernelImage;
import dev.bulkhead.kernels.KernelModule;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Assumptions;

/** A context, the kernels and upload/download helpers for the GPU tests (emulator or GPU, see GpuTarget). */
final class GpuHarness implements AutoCloseable {

    final CudaContext ctx;
    final CudaOps ops;

    private GpuHarness(CudaContext ctx) {
        this.ctx = ctx;
        KernelModule m = KernelModule.load(ctx);
        m.allowSharedMemory(dev.bulkhead.kernels.Kernel.PAGED_ATTENTION_PREFILL,
                dev.bulkhead.kernels.Kernel.prefillSharedBytes(256));
        m.allowSharedMemory(dev.bulkhead.kernels.Kernel.PAGED_ATTENTION_PREFILL_TC,
                dev.bulkhead.kernels.Kernel.prefillTcSharedBytes(256, 4));
        this.ops = new CudaOps(m, ctx.createStream());
    }

    /** On the CUDA emulator, or on a GPU under {@code -Dbulkhead.gpu.target=device} (see GpuTarget). */
    static GpuHarness open() {
        GpuTarget.require();
        if (!GpuTarget.emulated()) {
            Assumptions.assumeTrue(KernelImage.isPresent(), "built without nvcc");
        }
        return new GpuHarness(CudaContext.open(0));
    }

    void sync() {
        CudaDriver.streamSynchronize(ops.stream());
    }

    DevicePtr f32(float[] v) {
        return DeviceArrays.floats(ctx, v);
    }

    DevicePtr i32(int[] v) {
        return DeviceArrays.ints(ctx, v);
    }

    DevicePtr i64(long[] v) {
        return DeviceArrays.longs(ctx, v);
    }

    /** Uploads {@code v} rounded to bf16 and rounds {@code v} in place, so the CPU oracle sees the same values. */
    DevicePtr bf16(float[] v) {
        MemorySegment h = ctx.arena().allocate(2L * Math.max(1, v.length), 2);
        for (int i = 0; i < v.length; i++) {
            short b = Bf16.fromFloat(v[i]);
            h.setAtIndex(ValueLayout.JAVA_SHORT, i, b);
            v[i] = Bf16.toFloat(b);
        }
        return DeviceArrays.upload(ctx, h);
    }

    DevicePtr zeros(long bytes) {
        DevicePtr p = ctx.alloc(bytes).ptr();
        CudaMemory.setD8(p, (byte) 0, bytes);
        return p;
    }

    float[] readF32(DevicePtr p, int n) {
        sync();
        return DeviceArrays.readFloats(ctx, p, n);
    }

    float[] readBf16(DevicePtr p, int n) {
        short[] bits = readShorts(p, n);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = Bf16.toFloat(bits[i]);
        }
        return out;
    }

    short[] readShorts(DevicePtr p, int n) {
        sync();
        return DeviceArrays.readShorts(ctx, p, n);
    }

    int[] readI32(DevicePtr p, int n) {
        sync();
        return DeviceArrays.readInts(ctx, p, n);
    }

    @Override
    public void close() {
        ctx.close();
    }
}
