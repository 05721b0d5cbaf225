package dev.bulkhead.model.llama2c;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.model.ModelFormatException;
import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.config.ModelFamily;
import dev.bulkhead.model.config.RopeScaling;
import dev.bulkhead.model.config.RopeStyle;
import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.WeightTensor;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Llama2cCheckpointTest {

    private static final Path SHARED = Path.of(System.getProperty("bulkhead.shared.dir", "../../shared"));
    private static final Path BIN = SHARED.resolve("models/stories260K/stories260K.bin");
    private static final Path HF = SHARED.resolve("models/stories260K-hf/model.safetensors");

    @TempDir
    Path tmp;

    private static void assumeData(Path p) {
        assumeTrue(Files.exists(p), "test data missing: " + p + " (see ../shared/models)");
    }

    @Test
    void readsStories260kHeaderAndConfig() {
        assumeData(BIN);
        try (Llama2cCheckpoint ckpt = Llama2cCheckpoint.open(BIN)) {
            // values from ../shared/models/stories260K/SOURCE.txt
            assertThat(ckpt.header()).isEqualTo(new Llama2cHeader(64, 172, 5, 8, 4, 512, 512, true));
            ModelConfig c = ckpt.config();
            assertThat(c.family()).isEqualTo(ModelFamily.LLAMA);
            assertThat(c.hiddenSize()).isEqualTo(64);
            assertThat(c.intermediateSize()).isEqualTo(172);
            assertThat(c.numLayers()).isEqualTo(5);
            assertThat(c.numHeads()).isEqualTo(8);
            assertThat(c.numKvHeads()).isEqualTo(4);
            assertThat(c.headDim()).isEqualTo(8);
            assertThat(c.vocabSize()).isEqualTo(512);
            assertThat(c.maxPositionEmbeddings()).isEqualTo(512);
            assertThat(c.ropeStyle()).isEqualTo(RopeStyle.INTERLEAVED);
            assertThat(c.ropeScaling()).isEqualTo(RopeScaling.NONE);
            assertThat(c.ropeTheta()).isEqualTo(10000.0);
            assertThat(c.rmsNormEps()).isEqualTo(1e-5f);
            assertThat(c.tieWordEmbeddings()).isTrue();
            assertThat(c.bosTokenId()).isEqualTo(1);
            assertThat(c.eosTokenIds()).containsExactly(2);
            assertThat(c.dtype()).isEqualTo(DType.F32);
        }
    }

    @Test
    void servesHuggingFaceNamesAndShapes() {
        assumeData(BIN);
        try (Llama2cCheckpoint ckpt = Llama2cCheckpoint.open(BIN)) {
            Set<String> expected = new HashSet<>(Set.of("model.embed_tokens.weight", "model.norm.weight"));
            for (int l = 0; l < 5; l++) {
                for (String s : new String[] {"input_layernorm", "post_attention_layernorm", "self_attn.q_proj",
                        "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj",
                        "mlp.down_proj"}) {
                    expected.add("model.layers." + l + "." + s + ".weight");
                }
            }
            assertThat(ckpt.names()).containsExactlyInAnyOrderElementsOf(expected);
            assertThat(ckpt.find("lm_head.weight")).isEmpty();
            assertThat(ckpt.get("model.embed_tokens.weight").shape()).containsExactly(512, 64);
            assertThat(ckpt.get("model.layers.4.self_attn.q_proj.weight").shape()).containsExactly(64, 64);
            assertThat(ckpt.get("model.layers.4.self_attn.k_proj.weight").shape()).containsExactly(32, 64);
            assertThat(ckpt.get("model.layers.4.self_attn.o_proj.weight").shape()).containsExactly(64, 64);
            assertThat(ckpt.get("model.layers.0.mlp.gate_proj.weight").shape()).containsExactly(172, 64);
            assertThat(ckpt.get("model.layers.0.mlp.down_proj.weight").shape()).containsExactly(64, 172);
            assertThat(ckpt.get("model.layers.0.input_layernorm.weight").shape()).containsExactly(64);
            assertThat(ckpt.get("model.layers.0.input_layernorm.weight").dtype()).isEqualTo(DType.F32);
            assertThatThrownBy(() -> ckpt.get("lm_head.weight")).isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining("lm_head.weight");
        }
    }

    /** Tensors of the Hugging Face conversion, located by parsing its header here (independent of the reader). */
    private record HfTensors(JsonNode header, ByteBuffer data) {

        static HfTensors read(Path file) throws IOException {
            ByteBuffer all = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
            int n = (int) all.getLong(0);
            byte[] json = new byte[n];
            all.get(8, json);
            return new HfTensors(new ObjectMapper().readTree(json), all.slice(8 + n, all.capacity() - 8 - n));
        }

        float[] floats(String name) {
            JsonNode info = header.get(name);
            assertThat(info).as(name).isNotNull();
            assertThat(info.get("dtype").asText()).isEqualTo("F32");
            int begin = info.get("data_offsets").get(0).asInt();
            int end = info.get("data_offsets").get(1).asInt();
            float[] out = new float[(end - begin) / 4];
            data.slice(begin, end - begin).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
            return out;
        }

        long[] shape(String name) {
            return new ObjectMapper().convertValue(header.get(name).get("shape"), long[].class);
        }
    }

    private static float[] floats(WeightTensor t) {
        return t.data().toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
    }

    /**
     * transformers' convert_llama_weights_to_hf permute: HF row {@code h*hs + half*hs/2 + i} is Meta row
     * {@code h*hs + 2*i + half}; applied here to the llama2.c rows to compare with the HF tensor.
     */
    private static float[] permuteToHf(float[] meta, int heads, int headSize, int cols) {
        float[] hf = new float[meta.length];
        for (int h = 0; h < heads; h++) {
            for (int half = 0; half < 2; half++) {
                for (int i = 0; i < headSize / 2; i++) {
                    int hfRow = h * headSize + half * headSize / 2 + i;
                    int metaRow = h * headSize + 2 * i + half;
                    System.arraycopy(meta, metaRow * cols, hf, hfRow * cols, cols);
                }
            }
        }
        return hf;
    }

    @Test
    void tensorsEqualTheHuggingFaceConversionBitForBit() throws IOException {
        assumeData(BIN);
        assumeData(HF);
        HfTensors hf = HfTensors.read(HF);
        try (Llama2cCheckpoint ckpt = Llama2cCheckpoint.open(BIN)) {
            assertThat(ckpt.names()).containsExactlyInAnyOrderElementsOf(() -> {
                Set<String> names = new HashSet<>();
                hf.header().fieldNames().forEachRemaining(names::add);
                names.remove("__metadata__");
                return names.iterator();
            });
            for (String name : ckpt.names()) {
                WeightTensor t = ckpt.get(name);
                assertThat(t.shape()).as(name).containsExactly(hf.shape(name));
                float[] mine = floats(t);
                if (name.endsWith("q_proj.weight")) {
                    mine = permuteToHf(mine, 8, 8, 64);
                } else if (name.endsWith("k_proj.weight")) {
                    mine = permuteToHf(mine, 4, 8, 64);
                }
                assertThat(toBits(mine)).as(name).isEqualTo(toBits(hf.floats(name)));
            }
            // the RoPE permutation is not the identity, so q really is stored differently
            assertThat(toBits(floats(ckpt.get("model.layers.0.self_attn.q_proj.weight"))))
                    .isNotEqualTo(toBits(hf.floats("model.layers.0.self_attn.q_proj.weight")));
        }
    }

    private static int[] toBits(float[] f) {
        int[] bits = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            bits[i] = Float.floatToRawIntBits(f[i]);
        }
        return bits;
    }

    @Test
    void truncatedOrOversizedFileIsRejectedWithBothSizes() throws IOException {
        assumeData(BIN);
        byte[] bytes = Files.readAllBytes(BIN);
        Path truncated = tmp.resolve("truncated.bin");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length - 4));
        assertThatThrownBy(() -> Llama2cCheckpoint.open(truncated))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("truncated.bin")
                .hasMessageContaining(String.valueOf(bytes.length - 4))
                .hasMessageContaining(String.valueOf(bytes.length))
                .hasMessageContaining("truncated");
        Path oversized = tmp.resolve("oversized.bin");
        Files.write(oversized, Arrays.copyOf(bytes, bytes.length + 8));
        assertThatThrownBy(() -> Llama2cCheckpoint.open(oversized))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("oversized.bin")
                .hasMessageContaining(String.valueOf(bytes.length + 8))
                .hasMessageContaining(String.valueOf(bytes.length));
        Path tiny = tmp.resolve("tiny.bin");
        Files.write(tiny, new byte[10]);
        assertThatThrownBy(() -> Llama2cCheckpoint.open(tiny))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("tiny.bin").hasMessageContaining("10");
    }

    private static byte[] header(int... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putInt(v);
        }
        return b.array();
    }

    @Test
    void absurdHeadersAreRejectedNamingTheField() throws IOException {
        int[][] bad = {
                {0, 172, 5, 8, 4, 512, 512},             // dim 0
                {1 << 20, 172, 5, 8, 4, 512, 512},       // dim too large
                {64, -3, 5, 8, 4, 512, 512},             // hidden negative
                {64, 172, 100000, 8, 4, 512, 512},       // layers
                {64, 172, 5, 128, 4, 512, 512},          // more heads than dim
                {64, 172, 5, 8, 3, 512, 512},            // heads not a multiple of kv heads
                {64, 172, 5, 7, 7, 512, 512},            // dim not divisible by heads
                {64, 172, 5, 8, 4, Integer.MIN_VALUE, 512},
                {64, 172, 5, 8, 4, 512, 0},              // seq_len
        };
        String[] field = {"dim", "dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "n_heads", "vocab_size",
                "seq_len"};
        for (int i = 0; i < bad.length; i++) {
            Path f = tmp.resolve("bad" + i + ".bin");
            Files.write(f, header(bad[i]));
            assertThatThrownBy(() -> Llama2cCheckpoint.open(f)).as(Arrays.toString(bad[i]))
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessageContaining(f.getFileName().toString())
                    .hasMessageContaining(field[i]);
        }
        Path versioned = tmp.resolve("v1.bin");
        Files.write(versioned, header(0x616b3432, 1, 64, 172, 5, 8, 4, 512, 512));
        assertThatThrownBy(() -> Llama2cCheckpoint.open(versioned)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("version 1").hasMessageContaining("legacy");
    }

    @Test
    void unsharedClassifierIsServedAsLmHead() throws IOException {
        // dim 4, hidden 6, 1 layer, 2 heads, 1 kv head, vocab -5 (unshared), seq_len 3; floats numbered 0, 1, 2...
        Llama2cHeader h = new Llama2cHeader(4, 6, 1, 2, 1, 5, 3, false);
        long floats = h.floatCount();
        // embed 20 + rms 4 + wq 16 + wk 8 + wv 8 + wo 16 + rms 4 + w1 24 + w2 24 + w3 24 + final 4 + rope 3*2 + cls 20
        assertThat(floats).isEqualTo(20 + 4 + 16 + 8 + 8 + 16 + 4 + 24 + 24 + 24 + 4 + 6 + 20);
        ByteBuffer b = ByteBuffer.allocate((int) (28 + 4 * floats)).order(ByteOrder.LITTLE_ENDIAN);
        b.put(header(4, 6, 1, 2, 1, -5, 3));
        for (int i = 0; i < floats; i++) {
            b.putFloat(i);
        }
        Path f = tmp.resolve("unshared.bin");
        Files.write(f, b.array());
        try (Llama2cCheckpoint ckpt = Llama2cCheckpoint.open(f)) {
            assertThat(ckpt.config().tieWordEmbeddings()).isFalse();
            assertThat(ckpt.config().vocabSize()).isEqualTo(5);
            assertThat(ckpt.config().kvDim()).isEqualTo(2);
            assertThat(floats(ckpt.get("lm_head.weight"))).containsExactly(
                    rangeFrom(floats - 20, 20));
            assertThat(floats(ckpt.get("model.layers.0.self_attn.k_proj.weight"))).containsExactly(rangeFrom(40, 8));
            // w1 = gate at 76, w2 = down at 100, w3 = up at 124
            assertThat(floats(ckpt.get("model.layers.0.mlp.gate_proj.weight"))).containsExactly(rangeFrom(76, 24));
            assertThat(floats(ckpt.get("model.layers.0.mlp.down_proj.weight"))).containsExactly(rangeFrom(100, 24));
            assertThat(ckpt.get("model.layers.0.mlp.down_proj.weight").shape()).containsExactly(4, 6);
            assertThat(floats(ckpt.get("model.layers.0.mlp.up_proj.weight"))).containsExactly(rangeFrom(124, 24));
            assertThat(floats(ckpt.get("model.norm.weight"))).containsExactly(rangeFrom(148, 4));
        }
    }

    private static float[] rangeFrom(long start, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = start + i;
        }
        return out;
    }

    @Test
    void closeUnmapsAndIsIdempotent() {
        assumeData(BIN);
        Llama2cCheckpoint ckpt = Llama2cCheckpoint.open(BIN);
        WeightTensor t = ckpt.get("model.norm.weight");
        ckpt.close();
        ckpt.close();
        assertThatThrownBy(() -> t.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED, 0))
                .isInstanceOf(IllegalStateException.class);
    }
}
