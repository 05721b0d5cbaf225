package dev.bulkhead.model.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bulkhead.model.ModelFormatException;
import dev.bulkhead.model.embedded.EmbeddedModel;
import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.WeightTensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {

    @TempDir
    Path tmp;

    /** Builds a safetensors file by hand from the spec, independent of any writer under test. */
    static byte[] file(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(len.array());
        out.writeBytes(h);
        out.writeBytes(data);
        return out.toByteArray();
    }

    static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    @Test
    void readsAllThreeDtypesZeroCopy() throws IOException {
        byte[] f32 = floats(1.5f, -2f, 3.25f, 0f, 7f, -0.5f);
        // bf16 of 1.0 is 0x3F80, of -2.0 is 0xC000; f16 of 1.0 is 0x3C00, of 0.5 is 0x3800
        byte[] bf16 = {(byte) 0x80, 0x3F, 0x00, (byte) 0xC0};
        byte[] f16 = {0x00, 0x3C, 0x00, 0x38};
        byte[] data = new byte[f32.length + 4 + 4];
        System.arraycopy(f32, 0, data, 0, 24);
        System.arraycopy(bf16, 0, data, 24, 4);
        System.arraycopy(f16, 0, data, 28, 4);
        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[24,28]},"
                + "\"c\":{\"dtype\":\"F16\",\"shape\":[1,2],\"data_offsets\":[28,32]}}";
        try (SafetensorsFile st = SafetensorsFile.open(write("x.safetensors", file(header, data)))) {
            assertThat(st.metadata()).containsEntry("format", "pt");
            assertThat(st.tensors().keySet()).containsExactly("a", "b", "c");
            WeightTensor a = st.tensors().get("a");
            assertThat(a.dtype()).isEqualTo(DType.F32);
            assertThat(a.shape()).containsExactly(2, 3);
            assertThat(a.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8)).isEqualTo(3.25f);
            WeightTensor b = st.tensors().get("b");
            assertThat(b.dtype()).isEqualTo(DType.BF16);
            assertThat(b.data().get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2)).isEqualTo((short) 0xC000);
            assertThat(st.tensors().get("c").dtype()).isEqualTo(DType.F16);
            assertThat(a.data().isReadOnly()).isTrue();
        }
    }

    @Test
    void readsTheEmbeddedStories260K() {
        Path dir = EmbeddedModel.extract(tmp.resolve("cache"));
        try (SafetensorsWeightSource src = SafetensorsWeightSource.open(dir)) {
            assertThat(src.names()).hasSize(47).contains("model.embed_tokens.weight", "model.layers.4.mlp.down_proj.weight");
            assertThat(src.get("model.layers.0.self_attn.k_proj.weight").shape()).containsExactly(32, 64);
            assertThat(src.get("model.layers.0.mlp.down_proj.weight").shape()).containsExactly(64, 172);
            assertThat(src.find("lm_head.weight")).isEmpty();
            assertThatThrownBy(() -> src.get("nope")).isInstanceOf(ModelFormatException.class).hasMessageContaining("missing tensor nope");
        }
    }

    @Test
    void truncatedDataIsReportedWithTheTensorName() throws IOException {
        byte[] good = file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", floats(1, 2, 3, 4));
        Path p = write("trunc.safetensors", Arrays.copyOf(good, good.length - 5));
        assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("trunc.safetensors").hasMessageContaining("tensor w").hasMessageContaining("truncated");
    }

    @Test
    void headerLengthPastTheEnd() throws IOException {
        byte[] bytes = file("{}", new byte[0]);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 5000);
        Path p = write("long.safetensors", bytes);
        assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("long.safetensors").hasMessageContaining("header length 5000 runs past the end");
    }

    @Test
    void tinyAndEmptyFiles() throws IOException {
        Path p = write("empty.safetensors", new byte[3]);
        assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("empty.safetensors").hasMessageContaining("truncated");
        Path neg = write("neg.safetensors", file("{}", new byte[0]));
        Files.write(neg, new byte[] {-1, -1, -1, -1, -1, -1, -1, -1}, java.nio.file.StandardOpenOption.WRITE);
        assertThatThrownBy(() -> SafetensorsFile.open(neg)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("header length -1");
    }

    @Test
    void unknownDtype() throws IOException {
        Path p = write("i64.safetensors", file("{\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8]));
        assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("i64.safetensors").hasMessageContaining("tensor ids has unsupported dtype 'I64'");
    }

    @Test
    void shapeDisagreeingWithOffsets() throws IOException {
        Path p = write("shape.safetensors", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", floats(1, 2, 3, 4)));
        assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("tensor w is F32 [3] = 12 bytes but its data_offsets span 16");
    }

    @Test
    void headerThatIsNotJson() throws IOException {
        Path p = write("junk.safetensors", file("{\"w\": [oops", new byte[0]));
        assertThatThrownBy(() -> SafetensorsFile.open(p)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("junk.safetensors").hasMessageContaining("not valid JSON");
    }

    @Test
    void shardedCheckpointThroughTheIndex() throws IOException {
        Files.write(tmp.resolve("model-00001-of-00002.safetensors"),
                file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", floats(1, 2)));
        Files.write(tmp.resolve("model-00002-of-00002.safetensors"),
                file("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", floats(9)));
        Files.writeString(tmp.resolve("model.safetensors.index.json"), "{\"metadata\":{\"total_size\":12},\"weight_map\":"
                + "{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\"}}");
        try (SafetensorsWeightSource src = SafetensorsWeightSource.open(tmp)) {
            assertThat(src.names()).containsExactlyInAnyOrder("a", "b");
            assertThat(src.files()).hasSize(2);
            assertThat(src.get("b").data().get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0)).isEqualTo(9f);
        }
    }

    @Test
    void indexPointingAtAMissingShard() throws IOException {
        Files.writeString(tmp.resolve("model.safetensors.index.json"),
                "{\"weight_map\":{\"a\":\"model-00009-of-00009.safetensors\"}}");
        assertThatThrownBy(() -> SafetensorsWeightSource.open(tmp)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("model.safetensors.index.json").hasMessageContaining("model-00009-of-00009.safetensors");
    }

    @Test
    void directoryWithoutWeights() {
        assertThatThrownBy(() -> SafetensorsWeightSource.open(tmp)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("no model.safetensors");
    }
}
