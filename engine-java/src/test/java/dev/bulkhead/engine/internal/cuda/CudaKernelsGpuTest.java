package dev.bulkhead.engine.internal.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulkhead.engine.internal.cpu.CpuKernels;
import dev.bulkhead.engine.internal.cpu.CpuKvCache;
import dev.bulkhead.engine.internal.cpu.PagedAttention;
import dev.bulkhead.engine.internal.cpu.RopeTable;
import dev.bulkhead.ffi.DevicePtr;
import dev.bulkhead.kernels.Kernel;
import dev.bulkhead.model.config.RopeStyle;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every kernel against the CPU backend on random inputs. Tolerances: outputs stored as bf16 within 1e-2
 * relative + 1e-2 absolute (bf16 has 8 significant bits); fp32 outputs within 1e-4; conversions, gathers
 * and argmax exact. Inputs that the GPU keeps as bf16 are rounded the same way before the CPU sees them.
 */
@Tag("gpu")
class CudaKernelsGpuTest {

    static GpuHarness gpu;

    @BeforeAll
    static void open() {
        gpu = GpuHarness.open();
    }

    @AfterAll
    static void close() {
        if (gpu != null) {
            gpu.close();
        }
    }

    private static float[] random(Random r, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian() * scale;
        }
        return v;
    }

    private static void assertClose(float[] gpuOut, float[] cpu, double rtol, double atol, String what) {
        assertThat(gpuOut).hasSameSizeAs(cpu);
        for (int i = 0; i < cpu.length; i++) {
            assertThat((double) gpuOut[i]).as("%s[%d]", what, i)
                    .isCloseTo(cpu[i], org.assertj.core.data.Offset.offset(atol + rtol * Math.abs(cpu[i])));
        }
    }

    @Test
    void embeddingGatherIsExact() {
        Random r = new Random(1);
        int vocab = 50, hidden = 96;
        float[] table = random(r, vocab * hidden, 1f);
        DevicePtr t = gpu.bf16(table);
        int[] ids = {3, 49, 0, 3};
        DevicePtr out = gpu.zeros(4L * ids.length * hidden);
        gpu.ops.embeddingGather(out, t, gpu.i32(ids), ids.length, hidden);
        float[] expected = new float[ids.length * hidden];
        for (int i = 0; i < ids.length; i++) {
            System.arraycopy(table, ids[i] * hidden, expected, i * hidden, hidden);
        }
        assertThat(gpu.readF32(out, expected.length)).containsExactly(expected);
    }

    @Test
    void fusedAddRmsNormMatchesCpu() {
        Random r = new Random(2);
        int n = 5, hidden = 320;
        float[] x = random(r, n * hidden, 1f);
        float[] res = random(r, n * hidden, 1f);
        float[] w = random(r, hidden, 1f);
        DevicePtr xd = gpu.f32(x);
        DevicePtr out = gpu.zeros(2L * n * hidden);
        gpu.ops.fusedAddRmsNorm(out, xd, gpu.f32(res), gpu.f32(w), n, hidden, 1e-5f);
        float[] normed = new float[n * hidden];
        CpuKernels.add(x, 0, res, 0, n * hidden);
        for (int t = 0; t < n; t++) {
            CpuKernels.rmsNorm(normed, t * hidden, x, t * hidden, w, hidden, 1e-5f);
        }
        assertClose(gpu.readF32(xd, n * hidden), x, 1e-6, 1e-6, "x");
        assertClose(gpu.readBf16(out, n * hidden), normed, 1e-2, 1e-2, "out");
        int[] rows = {4, 1};
        DevicePtr rowsOut = gpu.zeros(2L * rows.length * hidden);
        gpu.ops.rmsNormRows(rowsOut, xd, gpu.i32(rows), gpu.f32(w), rows.length, hidden, 1e-5f);
        float[] expectedRows = new float[rows.length * hidden];
        System.arraycopy(normed, 4 * hidden, expectedRows, 0, hidden);
        System.arraycopy(normed, hidden, expectedRows, hidden, hidden);
        assertClose(gpu.readBf16(rowsOut, expectedRows.length), expectedRows, 1e-2, 1e-2, "rows");
    }

    @Test
    void siluMulMatchesCpu() {
        Random r = new Random(3);
        int n = 3, ffn = 700;
        float[] gu = random(r, n * 2 * ffn, 2f);
        DevicePtr out = gpu.zeros(2L * n * ffn);
        gpu.ops.siluMul(out, gpu.f32(gu), n, ffn);
        float[] expected = new float[n * ffn];
        for (int t = 0; t < n; t++) {
            float[] g = new float[ffn];
            float[] u = new float[ffn];
            System.arraycopy(gu, t * 2 * ffn, g, 0, ffn);
            System.arraycopy(gu, t * 2 * ffn + ffn, u, 0, ffn);
            CpuKernels.siluMul(g, 0, u, 0, ffn);
            System.arraycopy(g, 0, expected, t * ffn, ffn);
        }
        assertClose(gpu.readBf16(out, n * ffn), expected, 1e-2, 1e-2, "silu");
    }

    @ParameterizedTest
    @CsvSource({"NEOX, false", "INTERLEAVED, false", "NEOX, true"})
    void ropeAndCacheWriteMatchCpu(RopeStyle style, boolean biasAndNorm) {
        Random r = new Random(4);
        int n = 5, heads = 4, kvHeads = 2, d = 16, width = (heads + 2 * kvHeads) * d, slots = 64;
        float[] qkv = random(r, n * width, 1f);
        float[] bias = biasAndNorm ? random(r, width, 0.5f) : null;
        float[] qn = biasAndNorm ? random(r, d, 1f) : null;
        float[] kn = biasAndNorm ? random(r, d, 1f) : null;
        double[] invFreq = new double[d / 2];
        for (int i = 0; i < d / 2; i++) {
            invFreq[i] = (float) Math.pow(10000, -2.0 * i / d);
        }
        float[] invF = new float[d / 2];
        for (int i = 0; i < invF.length; i++) {
            invF[i] = (float) invFreq[i];
        }
        int[] pos = {0, 1, 7, 100, 511};
        int[] slot = {3, 9, 20, 33, 63};
        DevicePtr q = gpu.zeros(4L * n * heads * d);
        DevicePtr kc = gpu.zeros(2L * slots * kvHeads * d);
        DevicePtr vc = gpu.zeros(2L * slots * kvHeads * d);
        gpu.ops.ropeQkvWrite(q, kc, vc, gpu.f32(qkv), bias == null ? DevicePtr.NULL : gpu.f32(bias),
                qn == null ? DevicePtr.NULL : gpu.f32(qn), kn == null ? DevicePtr.NULL : gpu.f32(kn), gpu.f32(invF),
                gpu.i32(pos), gpu.i32(slot), n, new CudaOps.AttentionShape(heads, kvHeads, d, 16, 0, 1f), d,
                style == RopeStyle.NEOX, 1e-6f);
        RopeTable table = new RopeTable(invFreq, 512);
        float[] expQ = new float[n * heads * d];
        float[] k = new float[n * kvHeads * d];
        float[] v = new float[n * kvHeads * d];
        for (int t = 0; t < n; t++) {
            float[] row = new float[width];
            System.arraycopy(qkv, t * width, row, 0, width);
            if (bias != null) {
                CpuKernels.add(row, 0, bias, 0, width);
                for (int h = 0; h < heads + kvHeads; h++) {
                    CpuKernels.rmsNorm(row, h * d, row, h * d, h < heads ? qn : kn, d, 1e-6f);
                }
            }
            CpuKernels.rope(row, 0, heads, d, pos[t], table, style);
            CpuKernels.rope(row, heads * d, kvHeads, d, pos[t], table, style);
            System.arraycopy(row, 0, expQ, t * heads * d, heads * d);
            System.arraycopy(row, heads * d, k, t * kvHeads * d, kvHeads * d);
            System.arraycopy(row, (heads + kvHeads) * d, v, t * kvHeads * d, kvHeads * d);
        }
        assertClose(gpu.readF32(q, expQ.length), expQ, 1e-4, 1e-4, "q");
        float[] kAll = gpu.readBf16(kc, slots * kvHeads * d);
        float[] vAll = gpu.readBf16(vc, slots * kvHeads * d);
        for (int t = 0; t < n; t++) {
            float[] gk = new float[kvHeads * d];
            float[] gv = new float[kvHeads * d];
            float[] ek = new float[kvHeads * d];
            float[] ev = new float[kvHeads * d];
            System.arraycopy(kAll, slot[t] * kvHeads * d, gk, 0, gk.length);
            System.arraycopy(vAll, slot[t] * kvHeads * d, gv, 0, gv.length);
            System.arraycopy(k, t * kvHeads * d, ek, 0, ek.length);
            System.arraycopy(v, t * kvHeads * d, ev, 0, ev.length);
            assertClose(gk, ek, 1e-2, 1e-2, "k token " + t);
            assertClose(gv, ev, 1e-2, 1e-2, "v token " + t);
        }
    }

    /** A cache of random bf16 K/V shared by the attention tests, mirrored in a CPU cache. */
    private record Cache(DevicePtr k, DevicePtr v, CpuKvCache cpu) {
        static Cache random(Random r, int numBlocks, int bs, int kvHeads, int d) {
            int n = numBlocks * bs * kvHeads * d;
            float[] k = CudaKernelsGpuTest.random(r, n, 1f);
            float[] v = CudaKernelsGpuTest.random(r, n, 1f);
            DevicePtr kd = gpu.bf16(k);
            DevicePtr vd = gpu.bf16(v);
            CpuKvCache cpu = new CpuKvCache(1, numBlocks, bs, kvHeads, d);
            for (int s = 0; s < numBlocks * bs; s++) {
                cpu.write(0, s, k, s * kvHeads * d, v, s * kvHeads * d);
            }
            return new Cache(kd, vd, cpu);
        }
    }

    private static int[] shuffledBlocks(Random r, int count, int numBlocks) {
        int[] all = new int[numBlocks];
        for (int i = 0; i < numBlocks; i++) {
            all[i] = i;
        }
        for (int i = numBlocks - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = all[i];
            all[i] = all[j];
            all[j] = t;
        }
        return java.util.Arrays.copyOf(all, count);
    }

    private static int[] flatTables(int[][] tables, int maxBlocks) {
        int[] flat = new int[tables.length * maxBlocks];
        for (int s = 0; s < tables.length; s++) {
            System.arraycopy(tables[s], 0, flat, s * maxBlocks, tables[s].length);
        }
        return flat;
    }

    @ParameterizedTest
    @CsvSource({"64, 0, 256", "64, 100, 64", "8, 0, 256", "128, 0, 96", "64, 0, 2048"})
    void splitKDecodeAttentionMatchesCpu(int d, int window, int partition) {
        Random r = new Random(5);
        int heads = 8, kvHeads = 2, bs = 16, numBlocks = 128, maxBlocks = 100;
        Cache cache = Cache.random(r, numBlocks, bs, kvHeads, d);
        int[] ctx = {1, 300, 1500};
        int[][] tables = new int[ctx.length][];
        for (int s = 0; s < ctx.length; s++) {
            tables[s] = shuffledBlocks(r, (ctx[s] + bs - 1) / bs, numBlocks);
        }
        int n = ctx.length;
        float[] q = random(r, n * heads * d, 1f);
        int[] pos = new int[n];
        int[] seq = new int[n];
        for (int t = 0; t < n; t++) {
            pos[t] = ctx[t] - 1;
            seq[t] = t;
        }
        int maxParts = (1500 + partition - 1) / partition;
        var shape = new CudaOps.AttentionShape(heads, kvHeads, d, bs, window, (float) (1 / Math.sqrt(d)));
        DevicePtr out = gpu.zeros(2L * n * heads * d);
        gpu.ops.decodeAttention(out, gpu.zeros(4L * n * heads * maxParts * d), gpu.zeros(4L * n * heads * maxParts),
                gpu.zeros(4L * n * heads * maxParts), gpu.f32(q), cache.k(), cache.v(), gpu.i32(new int[] {0, 1, 2}),
                gpu.i32(seq), gpu.i32(pos), gpu.i32(flatTables(tables, maxBlocks)), maxBlocks, n, shape,
                new DecodeSplit(partition, maxParts));
        float[] expected = new float[n * heads * d];
        float[] scratch = new float[2048];
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < heads; h++) {
                PagedAttention.attend(cache.cpu(), 0, q, t * heads * d, h, heads, tables[t], ctx[t], window,
                        shape.scale(), expected, t * heads * d + h * d, scratch);
            }
        }
        assertClose(gpu.readBf16(out, expected.length), expected, 1e-2, 1e-2, "decode d=" + d + " window=" + window);
    }

    /**
     * The tensor-core prefill (wmma) against the CPU on a ragged batch: a 37-token chunk at positions 40..76
     * (tiles of 16, 16, 5) beside a 5-token prompt, 8 query heads over 2 KV heads, a group split over
     * {@code headsPerBlock}-head blocks. Q and P are bf16 on the tensor cores, so the CPU sees Q rounded the same
     * way; P's rounding is what the 2e-2 tolerance leaves room for.
     */
    @ParameterizedTest
    @CsvSource({"16, 0, 4", "64, 0, 4", "64, 9, 2", "128, 0, 1", "128, 40, 4", "256, 0, 3", "32, 0, 4"})
    void tensorCorePrefillAttentionMatchesCpu(int d, int window, int headsPerBlock) {
        Random r = new Random(16);
        int heads = 8, kvHeads = 2, bs = 16, numBlocks = 64, maxBlocks = 8;
        Cache cache = Cache.random(r, numBlocks, bs, kvHeads, d);
        int[][] tables = {shuffledBlocks(r, 5, numBlocks), shuffledBlocks(r, 1, numBlocks)};
        int n = 42;
        int[] pos = new int[n];
        int[] seq = new int[n];
        for (int t = 0; t < 37; t++) {
            pos[t] = 40 + t;
        }
        for (int t = 37; t < n; t++) {
            pos[t] = t - 37;
            seq[t] = 1;
        }
        int[] tileStart = {0, 16, 32, 37};
        int[] tileLen = {16, 16, 5, 5};
        float[] q = random(r, n * heads * d, 1f);
        for (int i = 0; i < q.length; i++) {
            q[i] = Bf16.toFloat(Bf16.fromFloat(q[i]));
        }
        var shape = new CudaOps.AttentionShape(heads, kvHeads, d, bs, window, (float) (1 / Math.sqrt(d)));
        DevicePtr out = gpu.zeros(2L * n * heads * d);
        gpu.ops.prefillAttentionTc(out, gpu.f32(q), cache.k(), cache.v(), gpu.i32(tileStart), gpu.i32(tileLen),
                gpu.i32(seq), gpu.i32(pos), gpu.i32(flatTables(tables, maxBlocks)), maxBlocks, tileStart.length, shape,
                headsPerBlock);
        float[] expected = new float[n * heads * d];
        float[] scratch = new float[128];
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < heads; h++) {
                PagedAttention.attend(cache.cpu(), 0, q, t * heads * d, h, heads, tables[seq[t]], pos[t] + 1, window,
                        shape.scale(), expected, t * heads * d + h * d, scratch);
            }
        }
        assertClose(gpu.readBf16(out, expected.length), expected, 2e-2, 2e-2,
                "tensor-core prefill d=" + d + " window=" + window + " heads/block=" + headsPerBlock);
    }

    @ParameterizedTest
    @CsvSource({"64, 0", "64, 7", "8, 0", "256, 0"})
    void tiledPrefillAttentionMatchesCpu(int d, int window) {
        Random r = new Random(6);
        int heads = 4, kvHeads = 2, bs = 16, numBlocks = 64, maxBlocks = 8;
        Cache cache = Cache.random(r, numBlocks, bs, kvHeads, d);
        // seq 0: a 20-token chunk at positions 40..59; seq 1: 5 tokens at 0..4
        int[][] tables = {shuffledBlocks(r, 4, numBlocks), shuffledBlocks(r, 1, numBlocks)};
        int n = 25;
        int[] pos = new int[n];
        int[] seq = new int[n];
        for (int t = 0; t < 20; t++) {
            pos[t] = 40 + t;
        }
        for (int t = 20; t < 25; t++) {
            pos[t] = t - 20;
            seq[t] = 1;
        }
        int[] tileStart = {0, 8, 16, 20};
        int[] tileLen = {8, 8, 4, 5};
        float[] q = random(r, n * heads * d, 1f);
        var shape = new CudaOps.AttentionShape(heads, kvHeads, d, bs, window, (float) (1 / Math.sqrt(d)));
        DevicePtr out = gpu.zeros(2L * n * heads * d);
        gpu.ops.prefillAttention(out, gpu.f32(q), cache.k(), cache.v(), gpu.i32(tileStart), gpu.i32(tileLen),
                gpu.i32(seq), gpu.i32(pos), gpu.i32(flatTables(tables, maxBlocks)), maxBlocks, tileStart.length, shape);
        float[] expected = new float[n * heads * d];
        float[] scratch = new float[128];
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < heads; h++) {
                PagedAttention.attend(cache.cpu(), 0, q, t * heads * d, h, heads, tables[seq[t]], pos[t] + 1, window,
                        shape.scale(), expected, t * heads * d + h * d, scratch);
            }
        }
        assertClose(gpu.readBf16(out, expected.length), expected, 1e-2, 1e-2, "prefill d=" + d + " window=" + window);
    }

    @Test
    void argmaxTakesTheLowestIndexOfTheMaximum() {
        Random r = new Random(7);
        int rows = 3, vocab = 5000;
        float[] logits = random(r, rows * vocab, 1f);
        logits[123] = 9f;
        logits[4000] = 9f;
        logits[vocab + 4999] = 5f;
        logits[2 * vocab] = 7f;
        DevicePtr out = gpu.zeros(4L * rows);
        gpu.ops.argmaxRows(out, gpu.f32(logits), rows, vocab);
        assertThat(gpu.readI32(out, rows)).containsExactly(123, 4999, 0);
    }

    @Test
    void conversionsRoundLikeTheHost() {
        Random r = new Random(9);
        int n = 10_000;
        float[] v = random(r, n, 100f);
        DevicePtr in = gpu.f32(v);
        DevicePtr bf = gpu.zeros(2L * n);
        DevicePtr f16 = gpu.zeros(2L * n);
        DevicePtr back = gpu.zeros(4L * n);
        gpu.ops.convert(Kernel.CONVERT_F32_TO_BF16, bf, in, n);
        gpu.ops.convert(Kernel.CONVERT_F32_TO_F16, f16, in, n);
        short[] bfBits = gpu.readShorts(bf, n);
        short[] f16Bits = gpu.readShorts(f16, n);
        for (int i = 0; i < n; i++) {
            assertThat(bfBits[i]).as("bf16 %d", i).isEqualTo(Bf16.fromFloat(v[i]));
            assertThat(f16Bits[i]).as("f16 %d", i).isEqualTo(Float.floatToFloat16(v[i]));
        }
        gpu.ops.convert(Kernel.CONVERT_BF16_TO_F32, back, bf, n);
        float[] b = gpu.readF32(back, n);
        gpu.ops.convert(Kernel.CONVERT_F16_TO_F32, back, f16, n);
        float[] h = gpu.readF32(back, n);
        for (int i = 0; i < n; i++) {
            assertThat(b[i]).isEqualTo(Bf16.toFloat(bfBits[i]));
            assertThat(h[i]).isEqualTo(Float.float16ToFloat(f16Bits[i]));
        }
    }
}
