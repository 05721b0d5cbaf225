package dev.bulkhead.engine.cuda;

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

    /** Copies a host buffer into a new device allocation owned by the context. */
    DevicePtr upload(MemorySegment host) {
        DevicePtr p = ctx.alloc(host.byteSize()).ptr();
        CudaMemory.copyHtoD(p, host, host.byteSize());
        return p;
    }

    DevicePtr f32(float[] v) {
        MemorySegment h = ctx.arena().allocate(4L * Math.max(1, v.length), 4);
        MemorySegment.copy(v, 0, h, ValueLayout.JAVA_FLOAT, 0, v.length);
        return upload(h);
    }

    DevicePtr i32(int[] v) {
        MemorySegment h = ctx.arena().allocate(4L * Math.max(1, v.length), 4);
        MemorySegment.copy(v, 0, h, ValueLayout.JAVA_INT, 0, v.length);
        return upload(h);
    }

    DevicePtr i64(long[] v) {
        MemorySegment h = ctx.arena().allocate(8L * Math.max(1, v.length), 8);
        MemorySegment.copy(v, 0, h, ValueLayout.JAVA_LONG, 0, v.length);
        return upload(h);
    }

    /** Uploads {@code v} rounded to bf16 and rounds {@code v} in place, so the CPU oracle sees the same values. */
    DevicePtr bf16(float[] v) {
        MemorySegment h = ctx.arena().allocate(2L * Math.max(1, v.length), 2);
        for (int i = 0; i < v.length; i++) {
            short b = Bf16.fromFloat(v[i]);
            h.setAtIndex(ValueLayout.JAVA_SHORT, i, b);
            v[i] = Bf16.toFloat(b);
        }
        return upload(h);
    }

    DevicePtr zeros(long bytes) {
        DevicePtr p = ctx.alloc(bytes).ptr();
        CudaMemory.setD8(p, (byte) 0, bytes);
        return p;
    }

    float[] readF32(DevicePtr p, int n) {
        sync();
        MemorySegment h = ctx.arena().allocate(4L * n, 4);
        CudaMemory.copyDtoH(h, p, 4L * n);
        return h.toArray(ValueLayout.JAVA_FLOAT);
    }

    float[] readBf16(DevicePtr p, int n) {
        sync();
        MemorySegment h = ctx.arena().allocate(2L * n, 2);
        CudaMemory.copyDtoH(h, p, 2L * n);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = Bf16.toFloat(h.getAtIndex(ValueLayout.JAVA_SHORT, i));
        }
        return out;
    }

    short[] readShorts(DevicePtr p, int n) {
        sync();
        MemorySegment h = ctx.arena().allocate(2L * n, 2);
        CudaMemory.copyDtoH(h, p, 2L * n);
        return h.toArray(ValueLayout.JAVA_SHORT);
    }

    int[] readI32(DevicePtr p, int n) {
        sync();
        MemorySegment h = ctx.arena().allocate(4L * n, 4);
        CudaMemory.copyDtoH(h, p, 4L * n);
        return h.toArray(ValueLayout.JAVA_INT);
    }

    @Override
    public void close() {
        ctx.close();
    }
}
