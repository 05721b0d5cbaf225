package dev.bulkhead.model.gguf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.bulkhead.model.ModelFormatException;
import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.WeightTensor;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufFileTest {

    @TempDir
    Path dir;

    private static GgufWriter smallFile() {
        return new GgufWriter()
                .putString("general.architecture", "llama")
                .putString("general.name", "tiny ünïcode ✓")
                .putUInt32("llama.block_count", 2)
                .putStringArray("tokenizer.ggml.tokens", "<unk>", "a", "▁b")
                .addTensor("w", new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    @Test
    void roundTripsEveryMetadataType() throws IOException {
        GgufWriter w = new GgufWriter()
                .put("u8", GgufValueType.UINT8, 200)
                .put("i8", GgufValueType.INT8, -5)
                .put("u16", GgufValueType.UINT16, 60000)
                .put("i16", GgufValueType.INT16, -30000)
                .putUInt32("u32", 4_000_000_000L)
                .putInt32("i32", -7)
                .put("u64", GgufValueType.UINT64, 1L << 40)
                .put("i64", GgufValueType.INT64, -(1L << 40))
                .putFloat32("f32", 1.5f)
                .put("f64", GgufValueType.FLOAT64, 2.25)
                .putBool("yes", true)
                .putBool("no", false)
                .putString("s", "héllo\nworld")
                .putStringArray("strings", "x", "", "日本")
                .putFloat32Array("floats", -1f, 0.5f)
                .putInt32Array("ints", 3, -4)
                .put("nested", GgufValueType.ARRAY, new GgufArray(GgufValueType.ARRAY, new GgufArray[] {
                        new GgufArray(GgufValueType.UINT8, new long[] {1, 2}),
                        new GgufArray(GgufValueType.BOOL, new boolean[] {true})}));
        try (GgufFile f = GgufFile.open(write("all.gguf", w.toBytes()))) {
            GgufMetadata m = f.metadata();
            assertThat(f.version()).isEqualTo(3);
            assertThat(m.getLong("u8")).hasValue(200);
            assertThat(m.getLong("i8")).hasValue(-5);
            assertThat(m.getLong("u16")).hasValue(60000);
            assertThat(m.getLong("i16")).hasValue(-30000);
            assertThat(m.getLong("u32")).hasValue(4_000_000_000L);
            assertThat(m.getLong("i32")).hasValue(-7);
            assertThat(m.getLong("u64")).hasValue(1L << 40);
            assertThat(m.getLong("i64")).hasValue(-(1L << 40));
            assertThat(m.getDouble("f32")).hasValue(1.5);
            assertThat(m.getDouble("f64")).hasValue(2.25);
            assertThat(m.getBoolean("yes")).contains(true);
            assertThat(m.getBoolean("no")).contains(false);
            assertThat(m.getString("s")).contains("héllo\nworld");
            assertThat(m.getStringArray("strings").orElseThrow()).containsExactly("x", "", "日本");
            assertThat(m.getFloatArray("floats").orElseThrow()).containsExactly(-1f, 0.5f);
            assertThat(m.getLongArray("ints").orElseThrow()).containsExactly(3, -4);
            GgufArray[] nested = (GgufArray[]) m.getArray("nested").orElseThrow().values();
            assertThat((long[]) nested[0].values()).containsExactly(1, 2);
            assertThat((boolean[]) nested[1].values()).containsExactly(true);
            assertThat(m.type("u16")).contains(GgufValueType.UINT16);
            assertThat(m.keys()).startsWith("u8", "i8", "u16");
            assertThat(m.getString("u8")).isEmpty();
        }
    }

    @Test
    void reversesGgufDimsToRowMajorAndMapsDataZeroCopy() throws IOException {
        byte[] q8 = new byte[2 * 34];
        q8[0] = 0x00;
        q8[1] = 0x3C; // f16 1.0
        q8[2] = 7;
        GgufWriter w = smallFile().putUInt32("general.alignment", 64)
                .addTensor("q", DType.Q8_0, new long[] {2, 32}, q8);
        Path p = write("t.gguf", w.toBytes());
        try (GgufFile f = GgufFile.open(p)) {
            assertThat(f.alignment()).isEqualTo(64);
            assertThat(f.dataOffset() % 64).isZero();
            WeightTensor t = f.tensor("w");
            assertThat(t.shape()).containsExactly(2, 3);
            assertThat(t.dtype()).isEqualTo(DType.F32);
            float[] values = t.data().toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
            assertThat(values).containsExactly(1, 2, 3, 4, 5, 6);
            GgufTensorInfo q = f.tensorInfo("q").orElseThrow();
            assertThat(q.shape()).containsExactly(2, 32);
            assertThat(q.dataOffset() % 64).isZero();
            assertThat(f.tensor("q").data().get(ValueLayout.JAVA_BYTE, 2)).isEqualTo((byte) 7);
            // The header really stores the innermost dimension first.
            byte[] bytes = Files.readAllBytes(p);
            assertThat(indexOf(bytes, longsLe(3, 2))).isPositive();
            assertThat(f.metadata().getString("general.name")).contains("tiny ünïcode ✓");
        }
    }

    @Test
    void tensorDataIsANativeViewThatClosesWithTheFile() throws IOException {
        Path p = write("t.gguf", smallFile().toBytes());
        WeightTensor t;
        try (GgufFile f = GgufFile.open(p)) {
            t = f.tensor("w");
            // The kernels read these and the engine's native copies: one class of segment (see MappedFile).
            assertThat(t.data().isNative()).isTrue();
            assertThat(t.data().isMapped()).isFalse();
            assertThat(t.data().isReadOnly()).isTrue();
        }
        assertThatThrownBy(() -> t.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED, 0))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void acceptsVersion2() throws IOException {
        try (GgufFile f = GgufFile.open(write("v2.gguf", smallFile().version(2).toBytes()))) {
            assertThat(f.version()).isEqualTo(2);
            assertThat(f.metadata().getLong("llama.block_count")).hasValue(2);
        }
    }

    @Test
    void badMagicIsRejected() throws IOException {
        byte[] b = smallFile().toBytes();
        b[0] = 'X';
        Path p = write("magic.gguf", b);
        assertThatThrownBy(() -> GgufFile.open(p)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("magic.gguf").hasMessageContaining("bad magic");
    }

    @Test
    void unsupportedVersionIsRejected() throws IOException {
        Path p = write("v99.gguf", smallFile().version(99).toBytes());
        assertThatThrownBy(() -> GgufFile.open(p)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("v99.gguf").hasMessageContaining("unsupported GGUF version 99");
    }

    @Test
    void everyTruncationOfTheHeaderIsAFormatError() throws IOException {
        byte[] full = smallFile().toBytes();
        Path p = dir.resolve("cut.gguf");
        try (GgufFile f = GgufFile.open(write("full.gguf", full))) {
            for (int len = 0; len < f.dataOffset(); len++) {
                Files.write(p, Arrays.copyOf(full, len));
                Throwable t = catchThrowable(() -> GgufFile.open(p).close());
                assertThat(t).as("cut at %d", len).isInstanceOf(ModelFormatException.class)
                        .hasMessageContaining("cut.gguf");
            }
        }
        Files.write(p, Arrays.copyOf(full, 10));
        assertThatThrownBy(() -> GgufFile.open(p)).hasMessageContaining("truncated header");
    }

    @Test
    void tensorDataPastTheEndOfTheFileIsRejected() throws IOException {
        byte[] full = smallFile().toBytes();
        long dataOffset;
        try (GgufFile f = GgufFile.open(write("whole.gguf", full))) {
            dataOffset = f.dataOffset();
        }
        // w holds 6 floats (24 bytes); keep 20 of them.
        Path p = write("short.gguf", Arrays.copyOf(full, (int) dataOffset + 20));
        assertThatThrownBy(() -> GgufFile.open(p)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("short.gguf").hasMessageContaining("tensor w")
                .hasMessageContaining("past the end of the file");
    }

    @Test
    void unknownTensorTypeNamesTheTensorAndTypeId() throws IOException {
        GgufWriter w = smallFile().addRawTensor("blk.0.odd.weight", 3, new long[] {32}, new byte[20]);
        Path p = write("type.gguf", w.toBytes());
        assertThatThrownBy(() -> GgufFile.open(p)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("type.gguf").hasMessageContaining("blk.0.odd.weight")
                .hasMessageContaining("3 (Q4_1)");
    }

    @Test
    void absurdLengthsAndCountsAreRejected() throws IOException {
        byte[] good = smallFile().toBytes();
        // Offsets: magic 0, version 4, tensor count 8, kv count 16, first key length 24.
        byte[] tensors = good.clone();
        putLong(tensors, 8, Long.MAX_VALUE);
        assertThatThrownBy(() -> GgufFile.open(write("tc.gguf", tensors)))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("absurd tensor count");
        byte[] kvs = good.clone();
        putLong(kvs, 16, -1);
        assertThatThrownBy(() -> GgufFile.open(write("kv.gguf", kvs)))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("absurd metadata key/value count");
        byte[] key = good.clone();
        putLong(key, 24, 1L << 50);
        assertThatThrownBy(() -> GgufFile.open(write("key.gguf", key)))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("string length")
                .hasMessageContaining("runs past the end");
        byte[] array = good.clone();
        int at = indexOf(array, "tokenizer.ggml.tokens".getBytes()) + "tokenizer.ggml.tokens".length() + 8;
        putLong(array, at, 1L << 40);
        assertThatThrownBy(() -> GgufFile.open(write("array.gguf", array)))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("array.gguf")
                .hasMessageContaining("absurd length of array tokenizer.ggml.tokens");
    }

    @Test
    void randomByteCorruptionNeverEscapesAsAnotherException() throws IOException {
        byte[] good = smallFile().toBytes();
        Random random = new Random(1234);
        Path p = dir.resolve("fuzz.gguf");
        for (int round = 0; round < 300; round++) {
            byte[] bad = good.clone();
            for (int k = 0; k < 1 + random.nextInt(3); k++) {
                bad[random.nextInt(200)] = (byte) random.nextInt(256);
            }
            Files.write(p, bad);
            Throwable t = catchThrowable(() -> GgufFile.open(p).close());
            if (t != null) {
                assertThat(t).as("round %d", round).isInstanceOf(ModelFormatException.class);
            }
        }
    }

    @Test
    void missingFileIsAFormatErrorNamingIt() {
        Path p = dir.resolve("nope.gguf");
        assertThatThrownBy(() -> GgufFile.open(p)).isInstanceOf(ModelFormatException.class)
                .hasMessageContaining("nope.gguf");
    }

    private static byte[] longsLe(long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        return b.array();
    }

    private static void putLong(byte[] bytes, int offset, long value) {
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(offset, value);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
