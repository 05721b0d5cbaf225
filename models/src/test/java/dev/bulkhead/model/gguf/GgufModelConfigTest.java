package dev.bulkhead.model.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.model.ModelFormatException;
import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.config.ModelFamily;
import dev.bulkhead.model.config.RopeScaling;
import dev.bulkhead.model.config.RopeStyle;
import dev.bulkhead.model.tensor.DType;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufModelConfigTest {

    @TempDir
    Path dir;

    /** A one-layer model of width 16 with 4 heads (2 kv) of head dim 8 (explicit key_length). */
    private static GgufWriter model(String arch) {
        return new GgufWriter()
                .putString("general.architecture", arch)
                .putUInt32(arch + ".embedding_length", 16)
                .putUInt32(arch + ".feed_forward_length", 40)
                .putUInt32(arch + ".block_count", 1)
                .putUInt32(arch + ".attention.head_count", 4)
                .putUInt32(arch + ".attention.head_count_kv", 2)
                .putUInt32(arch + ".attention.key_length", 8)
                .putUInt32(arch + ".context_length", 256)
                .putFloat32(arch + ".attention.layer_norm_rms_epsilon", 1e-6f)
                .putFloat32(arch + ".rope.freq_base", 1e6f)
                .putUInt32("tokenizer.ggml.bos_token_id", 1)
                .putUInt32("tokenizer.ggml.eos_token_id", 2)
                .putUInt32("tokenizer.ggml.eot_token_id", 5)
                .addTensor("token_embd.weight", new float[10 * 16], 10, 16)
                .addTensor("blk.0.attn_q.weight", DType.F16, new long[] {32, 16}, new byte[32 * 16 * 2]);
    }

    private ModelConfig read(GgufWriter w) {
        Path p = dir.resolve("m" + System.nanoTime() + ".gguf");
        w.write(p);
        try (GgufFile f = GgufFile.open(p)) {
            return GgufModelConfig.from(f);
        }
    }

    @Test
    void qwen2HasNeoxRopeBiasAndTiedEmbeddings() {
        ModelConfig c = read(model("qwen2").addTensor("blk.0.attn_q.bias", new float[32], 32));
        assertThat(c.family()).isEqualTo(ModelFamily.QWEN2);
        assertThat(c.ropeStyle()).isEqualTo(RopeStyle.NEOX);
        assertThat(c.attentionBias()).isTrue();
        assertThat(c.qkNorm()).isFalse();
        assertThat(c.tieWordEmbeddings()).isTrue();
        assertThat(c.headDim()).isEqualTo(8);
        assertThat(c.numKvHeads()).isEqualTo(2);
        assertThat(c.vocabSize()).isEqualTo(10);
        assertThat(c.intermediateSize()).isEqualTo(40);
        assertThat(c.maxPositionEmbeddings()).isEqualTo(256);
        assertThat(c.ropeTheta()).isEqualTo(1e6);
        assertThat(c.rmsNormEps()).isEqualTo(1e-6f);
        assertThat(c.dtype()).isEqualTo(DType.F16);
        assertThat(c.bosTokenId()).isEqualTo(1);
        assertThat(c.eosTokenIds()).containsExactly(2, 5);
        assertThat(c.ropeScaling()).isEqualTo(RopeScaling.NONE);
    }

    @Test
    void qwen3HasQkNormAndLlamaIsInterleavedAndUntied() {
        ModelConfig q3 = read(model("qwen3").addTensor("blk.0.attn_q_norm.weight", new float[8], 8));
        assertThat(q3.qkNorm()).isTrue();
        assertThat(q3.ropeStyle()).isEqualTo(RopeStyle.NEOX);
        ModelConfig llama = read(model("llama").addTensor("output.weight", new float[10 * 16], 10, 16));
        assertThat(llama.ropeStyle()).isEqualTo(RopeStyle.INTERLEAVED);
        assertThat(llama.tieWordEmbeddings()).isFalse();
    }

    @Test
    void headDimDefaultsToWidthOverHeads() {
        GgufWriter w = new GgufWriter().putString("general.architecture", "mistral")
                .putUInt32("mistral.embedding_length", 32).putUInt32("mistral.feed_forward_length", 64)
                .putUInt32("mistral.block_count", 2).putUInt32("mistral.attention.head_count", 4)
                .putUInt32("mistral.context_length", 128)
                .putFloat32("mistral.attention.layer_norm_rms_epsilon", 1e-5f)
                .putStringArray("tokenizer.ggml.tokens", "a", "b", "c")
                .addTensor("blk.0.attn_q.weight", new float[32 * 32], 32, 32);
        ModelConfig c = read(w);
        assertThat(c.headDim()).isEqualTo(8);
        assertThat(c.numKvHeads()).isEqualTo(4);
        assertThat(c.ropeTheta()).isEqualTo(10000.0);
        assertThat(c.vocabSize()).isEqualTo(3);
        assertThat(c.bosTokenId()).isEqualTo(-1);
    }

    @Test
    void linearRopeScalingIsRead() {
        ModelConfig c = read(model("llama").putString("llama.rope.scaling.type", "linear")
                .putFloat32("llama.rope.scaling.factor", 4f));
        assertThat(c.ropeScaling().type()).isEqualTo(RopeScaling.Type.LINEAR);
        assertThat(c.ropeScaling().factor()).isEqualTo(4.0);
    }

    /** llama.cpp writes Llama 3.1 scaling as per-pair divisors in rope_freqs.weight, computed here from its formula. */
    @Test
    void llama3ScalingIsRecognisedFromRopeFreqs() {
        int headDim = 8;
        double theta = 500000;
        float[] factors = new float[headDim / 2];
        double factor = 8;
        double lowWavelen = 8192 / 1.0;
        double highWavelen = 8192 / 4.0;
        for (int i = 0; i < factors.length; i++) {
            double freq = 1.0 / Math.pow(theta, 2.0 * i / headDim);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) {
                factors[i] = 1;
            } else if (wavelen > lowWavelen) {
                factors[i] = (float) factor;
            } else {
                double smooth = (8192 / wavelen - 1) / (4 - 1);
                factors[i] = (float) (1 / ((1 - smooth) / factor + smooth));
            }
        }
        assertThat(read(llamaWithRopeFreqs(theta, factors))).extracting(ModelConfig::ropeScaling)
                .isEqualTo(RopeScaling.llama3(8, 1, 4, 8192));

        factors[factors.length - 1] = 3f;
        assertThatThrownBy(() -> read(llamaWithRopeFreqs(theta, factors))).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("rope_freqs.weight matches no known Llama 3 RoPE scaling");
    }

    private static GgufWriter llamaWithRopeFreqs(double theta, float[] factors) {
        return new GgufWriter().putString("general.architecture", "llama")
                .putUInt32("llama.embedding_length", 16).putUInt32("llama.feed_forward_length", 40)
                .putUInt32("llama.block_count", 1).putUInt32("llama.attention.head_count", 2)
                .putUInt32("llama.context_length", 256).putFloat32("llama.rope.freq_base", (float) theta)
                .putFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f)
                .addTensor("token_embd.weight", new float[4 * 16], 4, 16)
                .addTensor("blk.0.attn_q.weight", new float[16 * 16], 16, 16)
                .addTensor("rope_freqs.weight", factors, factors.length);
    }

    @Test
    void unknownArchitectureListsTheSupportedOnes() {
        assertThatThrownBy(() -> read(model("gemma3"))).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining(".gguf").hasMessageContaining("unknown architecture gemma3")
                .hasMessageContaining("llama, mistral, qwen2, qwen3");
    }

    @Test
    void missingRequiredKeyIsNamed() {
        GgufWriter w = new GgufWriter().putString("general.architecture", "llama")
                .putUInt32("llama.embedding_length", 16)
                .addTensor("blk.0.attn_q.weight", new float[16 * 16], 16, 16);
        assertThatThrownBy(() -> read(w)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("missing metadata llama.");
    }

    @Test
    void invalidValuesBecomeFormatErrors() {
        GgufWriter w = model("llama").putString("llama.attention.sliding_window", "wide");
        assertThatThrownBy(() -> read(w)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("llama.attention.sliding_window must be an integer");
    }
}
