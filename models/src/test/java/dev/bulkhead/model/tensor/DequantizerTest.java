package dev.bulkhead.model.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Builds ggml blocks from logical values (scales, mins, per-element quants) following the ggml block
 * definitions element by element, and checks the dequantized floats against the formula of each type.
 * Scales are powers of two and quants small integers, so every expected value is exact.
 */
class DequantizerTest {

    private static final short F16_HALF = 0x3800;      // 0.5
    private static final short F16_QUARTER = 0x3400;   // 0.25
    private static final short F16_EIGHTH = 0x3000;    // 0.125

    @Test
    void f32ReadsLittleEndianFloats() {
        ByteBuffer b = le(12);
        b.putFloat(1.5f).putFloat(-2.25f).putFloat(1e-7f);
        float[] out = new float[5];
        Dequantizer.dequantize(DType.F32, seg(b), 4, out, 2, 2);
        assertThat(out).containsExactly(0f, 0f, -2.25f, 1e-7f, 0f);
    }

    @Test
    void f16AndBf16DecodeKnownBitPatterns() {
        ByteBuffer h = le(8);
        h.putShort((short) 0x3C00).putShort((short) 0xC000).putShort((short) 0x7BFF).putShort((short) 0x0001);
        float[] out = new float[4];
        Dequantizer.dequantize(DType.F16, seg(h), 0, out, 0, 4);
        assertThat(out).containsExactly(1f, -2f, 65504f, (float) Math.pow(2, -24));

        ByteBuffer bf = le(6);
        bf.putShort((short) 0x3F80).putShort((short) 0xC040).putShort((short) 0x4049);
        Dequantizer.dequantize(DType.BF16, seg(bf), 0, out, 0, 3);
        assertThat(out[0]).isEqualTo(1f);
        assertThat(out[1]).isEqualTo(-3f);
        assertThat(out[2]).isEqualTo(Float.intBitsToFloat(0x40490000));
    }

    @Test
    void q8_0IsScaleTimesSignedByte() {
        ByteBuffer b = le(2 * 34);
        for (int block = 0; block < 2; block++) {
            b.putShort(block == 0 ? F16_HALF : F16_QUARTER);
            for (int j = 0; j < 32; j++) {
                b.put((byte) (j * 8 - 128 + block));
            }
        }
        float[] out = new float[64];
        Dequantizer.dequantize(DType.Q8_0, seg(b), 0, out, 0, 64);
        for (int i = 0; i < 64; i++) {
            int block = i / 32;
            float d = block == 0 ? 0.5f : 0.25f;
            assertThat(out[i]).as("value %d", i).isEqualTo(((i % 32) * 8 - 128 + block) * d);
        }
    }

    @Test
    void q4_0PutsLowNibblesFirstAndSubtractsEight() {
        int[] q = new int[32];
        for (int i = 0; i < 32; i++) {
            q[i] = (i * 7 + 3) % 16;
        }
        ByteBuffer b = le(18);
        b.putShort(F16_QUARTER);
        for (int j = 0; j < 16; j++) {
            b.put((byte) (q[j] | q[j + 16] << 4));
        }
        float[] out = new float[32];
        Dequantizer.dequantize(DType.Q4_0, seg(b), 0, out, 0, 32);
        for (int i = 0; i < 32; i++) {
            assertThat(out[i]).as("value %d", i).isEqualTo((q[i] - 8) * 0.25f);
        }
    }

    @Test
    void q4_KUsesSixBitScalesAndMinsPerSubBlock() {
        Random random = new Random(42);
        int[] scales = {1, 63, 17, 32, 5, 48, 33, 60};
        int[] mins = {0, 7, 40, 63, 21, 2, 50, 16};
        int[] q = new int[256];
        for (int i = 0; i < 256; i++) {
            q[i] = random.nextInt(16);
        }
        // NOTE: a leading padding block checks that srcByteOffset is honoured.
        ByteBuffer b = le(144 * 2);
        b.position(144);
        b.putShort(F16_HALF).putShort(F16_QUARTER);
        b.put(packQ4KScales(scales, mins));
        byte[] qs = new byte[128];
        for (int i = 0; i < 256; i++) {
            int group = i / 64;
            int within = i % 64;
            int byteIndex = group * 32 + within % 32;
            qs[byteIndex] |= (byte) (within < 32 ? q[i] : q[i] << 4);
        }
        b.put(qs);
        float[] out = new float[256];
        Dequantizer.dequantize(DType.Q4_K, seg(b), 144, out, 0, 256);
        for (int i = 0; i < 256; i++) {
            int sub = i / 32;
            float expected = 0.5f * scales[sub] * q[i] - 0.25f * mins[sub];
            assertThat(out[i]).as("value %d", i).isEqualTo(expected);
        }
    }

    @Test
    void q6_KCombinesLowAndHighBitsWithSignedScales() {
        Random random = new Random(7);
        int[] q = new int[256];
        for (int i = 0; i < 256; i++) {
            q[i] = random.nextInt(64);
        }
        byte[] scales = new byte[16];
        for (int s = 0; s < 16; s++) {
            scales[s] = (byte) (s % 2 == 0 ? s + 1 : -3 * s);
        }
        byte[] ql = new byte[128];
        byte[] qh = new byte[64];
        for (int half = 0; half < 2; half++) {
            for (int l = 0; l < 32; l++) {
                int base = 128 * half + l;
                int q1 = q[base];
                int q2 = q[base + 32];
                int q3 = q[base + 64];
                int q4 = q[base + 96];
                ql[64 * half + l] = (byte) ((q1 & 0xF) | (q3 & 0xF) << 4);
                ql[64 * half + l + 32] = (byte) ((q2 & 0xF) | (q4 & 0xF) << 4);
                qh[32 * half + l] = (byte) ((q1 >> 4) | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6);
            }
        }
        ByteBuffer b = le(210);
        b.put(ql).put(qh).put(scales).putShort(F16_EIGHTH);
        float[] out = new float[260];
        Dequantizer.dequantize(DType.Q6_K, seg(b), 0, out, 4, 256);
        for (int i = 0; i < 256; i++) {
            float expected = 0.125f * scales[i / 16] * (q[i] - 32);
            assertThat(out[4 + i]).as("value %d", i).isEqualTo(expected);
        }
    }

    @Test
    void rejectsCountThatIsNotAWholeNumberOfBlocks() {
        MemorySegment s = MemorySegment.ofArray(new byte[34]);
        assertThatThrownBy(() -> Dequantizer.dequantize(DType.Q8_0, s, 0, new float[32], 0, 16))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("32");
        assertThatThrownBy(() -> Dequantizer.dequantize(DType.Q8_0, s, 0, new float[64], 0, 64))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }

    /** ggml's packing of eight 6-bit (scale, min) pairs into 12 bytes, written from the block definition. */
    private static byte[] packQ4KScales(int[] scales, int[] mins) {
        byte[] out = new byte[12];
        for (int j = 0; j < 4; j++) {
            out[j] = (byte) ((scales[j] & 63) | (scales[j + 4] >> 4) << 6);
            out[j + 4] = (byte) ((mins[j] & 63) | (mins[j + 4] >> 4) << 6);
            out[j + 8] = (byte) ((scales[j + 4] & 0xF) | (mins[j + 4] & 0xF) << 4);
        }
        return out;
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static MemorySegment seg(ByteBuffer b) {
        return MemorySegment.ofArray(b.array());
    }
}
