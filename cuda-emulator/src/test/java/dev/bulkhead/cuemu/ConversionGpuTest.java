package dev.bulkhead.cuemu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.ffi.CudaContext;
import dev.bulkhead.ffi.CudaDriver;
import dev.bulkhead.ffi.CudaMemory;
import dev.bulkhead.ffi.DevicePtr;
import dev.bulkhead.ffi.Handles.Dim3;
import dev.bulkhead.ffi.Handles.Stream;
import dev.bulkhead.ffi.KernelArgs;
import dev.bulkhead.kernels.Kernel;
import dev.bulkhead.kernels.KernelModule;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The convert kernels are bit-exact with cuda_bf16.h / cuda_fp16.h: float to bf16 and to half round to nearest
 * even (NaN to the canonical 0x7fff); bf16 and half widen exactly. Checked on every special value, every
 * rounding boundary of both formats, and a million random floats, against references written from the formats'
 * definitions (and the JDK's IEEE binary16 conversion).
 */
@Tag("gpu")
class ConversionGpuTest {

    static CudaContext ctx;
    static KernelModule module;
    static Stream stream;

    @BeforeAll
    static void open() {
        GpuTarget.require();
        ctx = CudaContext.open(0);
        module = KernelModule.load(ctx);
        stream = ctx.createStream();
    }

    @AfterAll
    static void close() {
        if (ctx != null) {
            ctx.close();
        }
    }

    /** Nearest bf16 by distance (ties to the even one), computed in double: an independent reference. */
    static short bf16Reference(float f) {
        if (Float.isNaN(f)) {
            return 0x7fff;
        }
        int bits = Float.floatToRawIntBits(f);
        if (Float.isInfinite(f)) {
            return (short) (bits >>> 16);
        }
        int down = bits & 0xffff0000;
        int up = down + 0x10000;
        // NOTE: past the largest finite bf16 the next value up is infinity, which rounding treats as 2^128.
        double upValue = Float.isInfinite(Float.intBitsToFloat(up)) ? Math.copySign(0x1p128, f) : Float.intBitsToFloat(up);
        double d = Math.abs((double) f - Float.intBitsToFloat(down));
        double u = Math.abs((double) f - upValue);
        int pick = d < u ? down : u < d ? up : ((down >>> 16) & 1) == 0 ? down : up;
        return (short) (pick >>> 16);
    }

    static short halfReference(float f) {
        return Float.isNaN(f) ? 0x7fff : Float.floatToFloat16(f);
    }

    private static float[] inputs() {
        java.util.List<Float> v = new java.util.ArrayList<>();
        for (float s : new float[] {0f, -0f, 1f, -1f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE,
            -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN,
            Float.intBitsToFloat(0x7fc12345), Float.intBitsToFloat(0xff812345), 65504f, 65519.99f, 65520f, 65536f,
            5.96e-8f, 2.98e-8f, 2.99e-8f, 6.1e-5f}) {
            v.add(s);
        }
        for (int hi = 0; hi < 0x10000; hi += 7) {
            // Every rounding boundary of bf16: exactly halfway (ties), just below and just above.
            int base = hi << 16;
            v.add(Float.intBitsToFloat(base | 0x8000));
            v.add(Float.intBitsToFloat(base | 0x7fff));
            v.add(Float.intBitsToFloat(base | 0x8001));
        }
        for (int h = 0; h < 0x10000; h += 3) {
            // Halfway between neighbouring halves, through the float of each half.
            float a = Float.float16ToFloat((short) h);
            float b = Float.float16ToFloat((short) (h + 1));
            if (!Float.isNaN(a) && !Float.isNaN(b) && !Float.isInfinite(a) && !Float.isInfinite(b)) {
                v.add((float) (((double) a + b) / 2));
            }
        }
        Random r = new Random(11);
        for (int i = 0; i < 1_000_000; i++) {
            v.add(Float.intBitsToFloat(r.nextInt()));
        }
        float[] out = new float[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i);
        }
        return out;
    }

    private static void convert(Kernel k, DevicePtr out, DevicePtr in, long n) {
        KernelArgs a = module.args(k).ptr(0, out).ptr(1, in).i64(2, n);
        CudaDriver.launch(module.function(k), Dim3.of(4096), Dim3.of(256), 0, stream, a);
    }

    @Test
    void floatToBf16AndHalfRoundToNearestEvenAsTheCudaHeaders() {
        float[] in = inputs();
        int n = in.length;
        MemorySegment host = ctx.arena().allocate(4L * n, 4);
        MemorySegment.copy(in, 0, host, ValueLayout.JAVA_FLOAT, 0, n);
        DevicePtr src = ctx.alloc(4L * n).ptr();
        DevicePtr dst = ctx.alloc(2L * n).ptr();
        CudaMemory.copyHtoD(src, host, 4L * n);
        for (Kernel k : new Kernel[] {Kernel.CONVERT_F32_TO_BF16, Kernel.CONVERT_F32_TO_F16}) {
            convert(k, dst, src, n);
            CudaDriver.streamSynchronize(stream);
            MemorySegment got = ctx.arena().allocate(2L * n, 2);
            CudaMemory.copyDtoH(got, dst, 2L * n);
            for (int i = 0; i < n; i++) {
                short expected = k == Kernel.CONVERT_F32_TO_BF16 ? bf16Reference(in[i]) : halfReference(in[i]);
                short actual = got.getAtIndex(ValueLayout.JAVA_SHORT, i);
                if (actual != expected) {
                    throw new AssertionError(k + " of 0x" + Integer.toHexString(Float.floatToRawIntBits(in[i])) + " ("
                            + in[i] + ") gave 0x" + Integer.toHexString(actual & 0xffff) + ", expected 0x"
                            + Integer.toHexString(expected & 0xffff));
                }
            }
        }
    }

    @Test
    void everyBf16AndHalfWidensExactly() {
        int n = 0x10000;
        MemorySegment host = ctx.arena().allocate(2L * n, 2);
        for (int i = 0; i < n; i++) {
            host.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) i);
        }
        DevicePtr src = ctx.alloc(2L * n).ptr();
        DevicePtr dst = ctx.alloc(4L * n).ptr();
        CudaMemory.copyHtoD(src, host, 2L * n);
        for (Kernel k : new Kernel[] {Kernel.CONVERT_BF16_TO_F32, Kernel.CONVERT_F16_TO_F32}) {
            convert(k, dst, src, n);
            CudaDriver.streamSynchronize(stream);
            MemorySegment got = ctx.arena().allocate(4L * n, 4);
            CudaMemory.copyDtoH(got, dst, 4L * n);
            for (int i = 0; i < n; i++) {
                float actual = got.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                float expected = k == Kernel.CONVERT_BF16_TO_F32 ? Float.intBitsToFloat(i << 16)
                        : Float.float16ToFloat((short) i);
                if (Float.isNaN(expected)) {
                    assertThat(actual).as("%s of 0x%x", k, i).isNaN();
                } else {
                    assertThat(Float.floatToRawIntBits(actual)).as("%s of 0x%x", k, i)
                            .isEqualTo(Float.floatToRawIntBits(expected));
                }
            }
        }
    }
}
