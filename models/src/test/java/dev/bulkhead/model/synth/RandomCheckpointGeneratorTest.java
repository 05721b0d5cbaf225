package dev.bulkhead.model.synth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.model.arch.DecoderArchitecture;
import dev.bulkhead.model.arch.ModelWeights;
import dev.bulkhead.model.config.ModelConfig;
import dev.bulkhead.model.hf.HfConfigReader;
import dev.bulkhead.model.safetensors.SafetensorsWeightSource;
import dev.bulkhead.model.safetensors.SafetensorsWriter.TensorSpec;
import dev.bulkhead.model.tensor.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RandomCheckpointGeneratorTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path SHARED = Path.of(System.getProperty("bulkhead.shared.dir", "../../shared"));

    @TempDir
    Path tmp;

    /** A safetensors file parsed here with Jackson, independent of the project's reader. */
    private record Parsed(JsonNode header, ByteBuffer data, long fileSize, long headerLength) {

        static Parsed read(Path file) throws IOException {
            byte[] all = Files.readAllBytes(file);
            ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
            int n = (int) b.getLong(0);
            byte[] json = new byte[n];
            b.get(8, json);
            return new Parsed(JSON.readTree(json), b.slice(8 + n, all.length - 8 - n).order(ByteOrder.LITTLE_ENDIAN),
                    all.length, n);
        }

        ByteBuffer tensor(String name) {
            JsonNode off = header.get(name).get("data_offsets");
            int begin = off.get(0).asInt();
            return data.slice(begin, off.get(1).asInt() - begin).order(ByteOrder.LITTLE_ENDIAN);
        }

        float[] floats(String name) {
            String dtype = header.get(name).get("dtype").asText();
            ByteBuffer b = tensor(name);
            float[] out = new float[b.capacity() / (dtype.equals("F32") ? 4 : 2)];
            for (int i = 0; i < out.length; i++) {
                out[i] = switch (dtype) {
                    case "F32" -> b.getFloat(4 * i);
                    case "F16" -> Float.float16ToFloat(b.getShort(2 * i));
                    default -> Float.intBitsToFloat(b.getShort(2 * i) << 16);
                };
            }
            return out;
        }
    }

    @Test
    void writesAHeaderMatchingTheShape() throws IOException {
        ModelShape shape = ModelShapes.get("tiny-qwen3");
        var result = RandomCheckpointGenerator.generate(shape, DType.BF16, 1, tmp, null);
        assertThat(result.weightFiles()).containsExactly(tmp.resolve("model.safetensors"));
        assertThat(result.tensorBytes()).isEqualTo(shape.byteSize(DType.BF16));
        Parsed p = Parsed.read(tmp.resolve("model.safetensors"));
        assertThat(p.headerLength() % 8).isZero();
        assertThat(p.header().get("__metadata__").get("format").asText()).isEqualTo("pt");
        long offset = 0;
        List<String> names = new ArrayList<>();
        for (TensorSpec t : shape.tensors(DType.BF16)) {
            JsonNode info = p.header().get(t.name());
            assertThat(info).as(t.name()).isNotNull();
            names.add(t.name());
            assertThat(info.get("dtype").asText()).isEqualTo("BF16");
            assertThat(JSON.convertValue(info.get("shape"), long[].class)).containsExactly(t.shape());
            assertThat(info.get("data_offsets").get(0).asLong()).as(t.name()).isEqualTo(offset);
            offset += 2 * t.elementCount();
            assertThat(info.get("data_offsets").get(1).asLong()).isEqualTo(offset);
        }
        assertThat(p.header().size()).isEqualTo(names.size() + 1);
        assertThat(p.fileSize()).isEqualTo(8 + p.headerLength() + offset);
    }

    @Test
    void configJsonHasTheTransformersFields() throws IOException {
        ModelShape shape = ModelShapes.get("tiny-llama3");
        RandomCheckpointGenerator.generate(shape, DType.F16, 3, tmp, null);
        JsonNode c = JSON.readTree(tmp.resolve("config.json").toFile());
        assertThat(c.get("architectures").get(0).asText()).isEqualTo("LlamaForCausalLM");
        assertThat(c.get("architectures").size()).isEqualTo(1);
        assertThat(c.get("model_type").asText()).isEqualTo("llama");
        assertThat(c.get("hidden_size").asInt()).isEqualTo(64);
        assertThat(c.get("intermediate_size").asInt()).isEqualTo(160);
        assertThat(c.get("num_hidden_layers").asInt()).isEqualTo(2);
        assertThat(c.get("num_attention_heads").asInt()).isEqualTo(4);
        assertThat(c.get("num_key_value_heads").asInt()).isEqualTo(2);
        assertThat(c.get("head_dim").asInt()).isEqualTo(16);
        assertThat(c.get("vocab_size").asInt()).isEqualTo(512);
        assertThat(c.get("max_position_embeddings").asInt()).isEqualTo(256);
        assertThat(c.get("rms_norm_eps").asDouble()).isEqualTo(1e-5);
        assertThat(c.get("rope_theta").asDouble()).isEqualTo(500000.0);
        JsonNode rs = c.get("rope_scaling");
        assertThat(rs.get("rope_type").asText()).isEqualTo("llama3");
        assertThat(rs.get("factor").asDouble()).isEqualTo(4.0);
        assertThat(rs.get("low_freq_factor").asDouble()).isEqualTo(1.0);
        assertThat(rs.get("high_freq_factor").asDouble()).isEqualTo(4.0);
        assertThat(rs.get("original_max_position_embeddings").asInt()).isEqualTo(64);
        assertThat(c.get("tie_word_embeddings").asBoolean()).isFalse();
        assertThat(c.get("attention_bias").asBoolean()).isFalse();
        assertThat(c.get("bos_token_id").asInt()).isEqualTo(1);
        assertThat(JSON.convertValue(c.get("eos_token_id"), int[].class)).containsExactly(2, 3);
        assertThat(c.get("torch_dtype").asText()).isEqualTo("float16");
        assertThat(c.get("hidden_act").asText()).isEqualTo("silu");
        List<String> keys = new ArrayList<>();
        c.fieldNames().forEachRemaining(keys::add);
        assertThat(keys).isSorted();
        assertThat(Files.readString(tmp.resolve("config.json"))).startsWith("{\n  \"architectures\": [\n    \"Llama")
                .endsWith("}\n");

        JsonNode g = JSON.readTree(tmp.resolve("generation_config.json").toFile());
        assertThat(g.get("bos_token_id").asInt()).isEqualTo(1);
        assertThat(JSON.convertValue(g.get("eos_token_id"), int[].class)).containsExactly(2, 3);

        assertThat(HfConfigReader.read(tmp.resolve("config.json"))).isEqualTo(shape.config(DType.F16));
    }

    @Test
    void everyTinyShapeReadsBackAndBinds() throws IOException {
        for (String name : List.of("tiny-llama", "tiny-llama3", "tiny-qwen2", "tiny-qwen3", "tiny-mistral")) {
            ModelShape shape = ModelShapes.get(name);
            Path dir = tmp.resolve(name);
            RandomCheckpointGenerator.generate(shape, DType.F32, 5, dir, null);
            JsonNode c = JSON.readTree(dir.resolve("config.json").toFile());
            assertThat(c.get("rope_scaling").isNull()).isEqualTo(!name.equals("tiny-llama3"));
            assertThat(c.get("eos_token_id").isInt()).isEqualTo(!name.equals("tiny-llama3"));
            ModelConfig read = HfConfigReader.read(dir.resolve("config.json"));
            assertThat(read).as(name).isEqualTo(shape.config(DType.F32));
            try (SafetensorsWeightSource source = SafetensorsWeightSource.open(dir)) {
                ModelWeights w = DecoderArchitecture.of(read.family()).bind(read, source);
                assertThat(w).as(name).isNotNull();
            }
        }
        JsonNode qwen2 = JSON.readTree(tmp.resolve("tiny-qwen2/config.json").toFile());
        assertThat(qwen2.get("architectures").get(0).asText()).isEqualTo("Qwen2ForCausalLM");
        assertThat(qwen2.has("attention_bias")).isFalse();
        assertThat(qwen2.get("use_sliding_window").asBoolean()).isFalse();
        assertThat(JSON.readTree(tmp.resolve("tiny-qwen3/config.json").toFile()).get("head_dim").asInt()).isEqualTo(32);
        assertThat(JSON.readTree(tmp.resolve("tiny-mistral/config.json").toFile()).get("architectures").get(0).asText())
                .isEqualTo("MistralForCausalLM");
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherBytes() throws IOException {
        ModelShape shape = ModelShapes.get("tiny-llama");
        RandomCheckpointGenerator.generate(shape, DType.BF16, 42, tmp.resolve("a"), null);
        RandomCheckpointGenerator.generate(shape, DType.BF16, 42, tmp.resolve("b"), null);
        RandomCheckpointGenerator.generate(shape, DType.BF16, 43, tmp.resolve("c"), null);
        byte[] a = Files.readAllBytes(tmp.resolve("a/model.safetensors"));
        assertThat(Files.readAllBytes(tmp.resolve("b/model.safetensors"))).isEqualTo(a);
        Parsed pa = Parsed.read(tmp.resolve("a/model.safetensors"));
        Parsed pc = Parsed.read(tmp.resolve("c/model.safetensors"));
        for (TensorSpec t : shape.tensors(DType.BF16)) {
            assertThat(pc.tensor(t.name())).as(t.name()).isNotEqualTo(pa.tensor(t.name()));
        }
        // different tensors of one checkpoint are not copies of each other either
        assertThat(pa.tensor("model.layers.0.self_attn.q_proj.weight"))
                .isNotEqualTo(pa.tensor("model.layers.0.self_attn.o_proj.weight"));
    }

    @Test
    void valuesAreSmallNormalWeightsAndNormsNearOne() throws IOException {
        ModelShape shape = ModelShapes.get("tiny-mistral");
        RandomCheckpointGenerator.generate(shape, DType.F32, 9, tmp, null);
        Parsed p = Parsed.read(tmp.resolve("model.safetensors"));
        float[] embed = p.floats("model.embed_tokens.weight");
        double mean = 0;
        double sq = 0;
        int within1Sigma = 0;
        for (float v : embed) {
            mean += v;
            sq += (double) v * v;
            within1Sigma += Math.abs(v) < 0.02 ? 1 : 0;
        }
        mean /= embed.length;
        double std = Math.sqrt(sq / embed.length - mean * mean);
        assertThat(mean).isCloseTo(0, within(0.001));
        assertThat(std).isCloseTo(0.02, within(0.001));
        // about 68% of a normal lies within one sigma (a uniform would give 58%)
        assertThat(within1Sigma / (double) embed.length).isCloseTo(0.68, within(0.02));
        for (String norm : List.of("model.norm.weight", "model.layers.1.input_layernorm.weight")) {
            for (float v : p.floats(norm)) {
                assertThat(v).isBetween(0.9f, 1.1f);
            }
        }
    }

    @Test
    void halfPrecisionFilesAreTheF32ValuesRounded() throws IOException {
        ModelShape shape = ModelShapes.get("tiny-llama");
        RandomCheckpointGenerator.generate(shape, DType.F32, 11, tmp.resolve("f32"), null);
        RandomCheckpointGenerator.generate(shape, DType.F16, 11, tmp.resolve("f16"), null);
        RandomCheckpointGenerator.generate(shape, DType.BF16, 11, tmp.resolve("bf16"), null);
        Parsed f32 = Parsed.read(tmp.resolve("f32/model.safetensors"));
        Parsed f16 = Parsed.read(tmp.resolve("f16/model.safetensors"));
        Parsed bf16 = Parsed.read(tmp.resolve("bf16/model.safetensors"));
        String name = "model.layers.0.mlp.up_proj.weight";
        float[] exact = f32.floats(name);
        ByteBuffer half = f16.tensor(name);
        ByteBuffer brain = bf16.tensor(name);
        for (int i = 0; i < exact.length; i++) {
            assertThat(half.getShort(2 * i)).isEqualTo(Float.floatToFloat16(exact[i]));
            // bf16 rounding checked against exact arithmetic: the nearest of the two neighbours
            float got = Float.intBitsToFloat(brain.getShort(2 * i) << 16);
            int truncated = Float.floatToIntBits(exact[i]) & 0xFFFF0000;
            float down = Float.intBitsToFloat(truncated);
            float up = Float.intBitsToFloat(truncated + 0x10000);
            float nearest = Math.abs(exact[i] - down) <= Math.abs(up - exact[i]) ? down : up;
            if (Math.abs(exact[i] - down) != Math.abs(up - exact[i])) {
                assertThat(got).as("element %d of %s", i, name).isEqualTo(nearest);
            } else {
                assertThat(got).isIn(down, up);
            }
        }
    }

    @Test
    void shardedCheckpointHasACorrectIndexAndTheSameTensors() throws IOException {
        ModelShape shape = ModelShapes.get("tiny-llama3");
        long total = shape.byteSize(DType.F32);
        RandomCheckpointGenerator.generate(shape, DType.F32, 7, tmp.resolve("one"), null);
        var sharded = new RandomCheckpointGenerator(total / 3).write(shape, DType.F32, 7, tmp.resolve("many"), null);
        assertThat(sharded.weightFiles()).hasSizeGreaterThanOrEqualTo(4);
        Path last = sharded.weightFiles().getLast();
        assertThat(last.getFileName().toString()).isEqualTo("model.safetensors.index.json");
        assertThat(tmp.resolve("many/model.safetensors")).doesNotExist();
        int shards = sharded.weightFiles().size() - 1;
        for (int i = 0; i < shards; i++) {
            assertThat(sharded.weightFiles().get(i).getFileName().toString())
                    .isEqualTo(String.format("model-%05d-of-%05d.safetensors", i + 1, shards));
        }

        JsonNode index = JSON.readTree(last.toFile());
        assertThat(index.get("metadata").get("total_size").asLong()).isEqualTo(total);
        Map<String, String> weightMap = new HashMap<>();
        index.get("weight_map").properties().forEach(e -> weightMap.put(e.getKey(), e.getValue().asText()));
        assertThat(weightMap.keySet()).containsExactlyInAnyOrderElementsOf(
                shape.tensors(DType.F32).stream().map(TensorSpec::name).toList());
        Parsed single = Parsed.read(tmp.resolve("one/model.safetensors"));
        Map<String, Parsed> shardFiles = new HashMap<>();
        for (var e : weightMap.entrySet()) {
            Parsed shard = shardFiles.computeIfAbsent(e.getValue(), f -> {
                try {
                    return Parsed.read(tmp.resolve("many").resolve(f));
                } catch (IOException ex) {
                    throw new IllegalStateException(ex);
                }
            });
            assertThat(shard.tensor(e.getKey())).as(e.getKey()).isEqualTo(single.tensor(e.getKey()));
        }
        long shardData = 0;
        for (Parsed s : shardFiles.values()) {
            shardData += s.data().capacity();
            assertThat((long) s.data().capacity()).isLessThanOrEqualTo(Math.max(total / 3, 512L * 64 * 4));
        }
        assertThat(shardData).isEqualTo(total);
        try (SafetensorsWeightSource source = SafetensorsWeightSource.open(tmp.resolve("many"))) {
            assertThat(source.names()).hasSize(weightMap.size());
        }
    }

    @Test
    void copiesAFittingTokenizerAndRejectsOneThatDoesNotFit() throws IOException {
        Path hfTok = SHARED.resolve("models/stories260K-hf");
        assumeTrue(Files.exists(hfTok.resolve("tokenizer.json")), "test data missing: " + hfTok);
        RandomCheckpointGenerator.generate(ModelShapes.get("tiny-llama"), DType.BF16, 1, tmp.resolve("ok"), hfTok);
        assertThat(Files.readAllBytes(tmp.resolve("ok/tokenizer.json")))
                .isEqualTo(Files.readAllBytes(hfTok.resolve("tokenizer.json")));
        assertThat(Files.readString(tmp.resolve("ok/tokenizer_config.json")))
                .isEqualTo(Files.readString(hfTok.resolve("tokenizer_config.json")));
        assertThat(Files.isWritable(tmp.resolve("ok/tokenizer.json"))).isTrue();

        Path llama3 = SHARED.resolve("models/llama3.1-tokenizer");
        assumeTrue(Files.exists(llama3.resolve("tokenizer.json")), "test data missing: " + llama3);
        assertThatThrownBy(() -> RandomCheckpointGenerator.generate(ModelShapes.get("tiny-llama"), DType.BF16, 1,
                tmp.resolve("bad"), llama3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("vocab_size is 512")
                .hasMessageContaining("128");
        assertThat(tmp.resolve("bad/model.safetensors")).doesNotExist();
        assertThatThrownBy(() -> RandomCheckpointGenerator.generate(ModelShapes.get("tiny-llama"), DType.BF16, 1,
                tmp.resolve("none"), tmp.resolve("ok/missing")))
                .hasMessageContaining("tokenizer.json");
    }

    @Test
    void rejectsQuantizedStorage() {
        assertThatThrownBy(() -> RandomCheckpointGenerator.generate(ModelShapes.get("tiny-llama"), DType.Q8_0, 1,
                tmp, null)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Q8_0");
    }
}
