package dev.bulkhead.model.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.model.safetensors.SafetensorsWriter.TensorContent;
import dev.bulkhead.model.safetensors.SafetensorsWriter.TensorSpec;
import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.WeightSource;
import dev.bulkhead.model.tensor.WeightTensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    /** Element i of a tensor is (tensor ordinal * 1000 + i) so every byte is checkable by index. */
    private static float expected(TensorSpec t, long i) {
        return (t.name().hashCode() & 0xFF) * 1000 + i;
    }

    private static final TensorContent INDEXED = (t, first, target) -> {
        long n = target.byteSize() / t.elementBytes();
        for (long i = 0; i < n; i++) {
            float v = expected(t, first + i);
            switch (t.dtype()) {
                case F32 -> target.setAtIndex(F32, i, v);
                case F16 -> target.setAtIndex(I16, i, Float.floatToFloat16(v));
                default -> target.setAtIndex(I16, i, (short) (Float.floatToIntBits(v) >>> 16));
            }
        }
    };

    private static List<TensorSpec> specs() {
        return List.of(
                new TensorSpec("a.f16", DType.F16, new long[] {3}),
                new TensorSpec("b.f32", DType.F32, new long[] {5, 7}),
                new TensorSpec("c.bf16", DType.BF16, new long[] {2, 3, 4}),
                new TensorSpec("d.f32", DType.F32, new long[] {1000}));
    }

    /** Parsed file: header JSON plus the raw data section. */
    private record Parsed(long headerLength, JsonNode header, ByteBuffer data) {
    }

    private static Parsed parse(Path file) throws IOException {
        ByteBuffer all = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        long n = all.getLong(0);
        byte[] header = new byte[(int) n];
        all.get(8, header);
        ByteBuffer data = all.slice(8 + (int) n, all.capacity() - 8 - (int) n).order(ByteOrder.LITTLE_ENDIAN);
        return new Parsed(n, JSON.readTree(header), data);
    }

    @Test
    void writesHeaderAndDataPerSpec() throws IOException {
        // NOTE: a 64-byte chunk forces every tensor but the smallest across several chunks.
        SafetensorsWriter writer = new SafetensorsWriter(1L << 30, Map.of("format", "pt"), 64);
        List<Path> files = writer.writeCheckpoint(dir, specs(), INDEXED);
        assertThat(files).containsExactly(dir.resolve("model.safetensors"));
        Parsed p = parse(files.getFirst());

        assertThat((8 + p.headerLength()) % 8).isZero();
        assertThat(p.header().get("__metadata__").get("format").asText()).isEqualTo("pt");
        List<String> order = new ArrayList<>();
        p.header().fieldNames().forEachRemaining(order::add);
        // F32 tensors first (alignment), input order kept within a size class
        assertThat(order).containsExactly("__metadata__", "b.f32", "d.f32", "a.f16", "c.bf16");

        long offset = 0;
        for (String name : order.subList(1, order.size())) {
            JsonNode info = p.header().get(name);
            TensorSpec spec = specs().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
            assertThat(info.get("dtype").asText()).isEqualTo(spec.dtype().name());
            assertThat(JSON.convertValue(info.get("shape"), long[].class)).containsExactly(spec.shape());
            assertThat(info.get("data_offsets").get(0).asLong()).isEqualTo(offset);
            long end = info.get("data_offsets").get(1).asLong();
            assertThat(end - offset).isEqualTo(spec.elementCount() * spec.elementBytes());
            assertThat(offset % spec.elementBytes()).isZero();
            for (long i = 0; i < spec.elementCount(); i++) {
                int at = (int) (offset + i * spec.elementBytes());
                float actual = switch (spec.dtype()) {
                    case F32 -> p.data().getFloat(at);
                    case F16 -> Float.float16ToFloat(p.data().getShort(at));
                    default -> Float.intBitsToFloat(p.data().getShort(at) << 16);
                };
                float want = expected(spec, i);
                float rounded = switch (spec.dtype()) {
                    case F32 -> want;
                    case F16 -> Float.float16ToFloat(Float.floatToFloat16(want));
                    default -> Float.intBitsToFloat(Float.floatToIntBits(want) >>> 16 << 16);
                };
                assertThat(actual).as("%s[%d]", name, i).isEqualTo(rounded);
            }
            offset = end;
        }
        assertThat(offset).isEqualTo(p.data().capacity());
    }

    @Test
    void headerIsPaddedWithSpaces() throws IOException {
        SafetensorsWriter writer = new SafetensorsWriter(1L << 30, Map.of());
        Path f = dir.resolve("one.safetensors");
        writer.writeFile(f, List.of(new TensorSpec("x", DType.F32, new long[] {1})), INDEXED);
        byte[] bytes = Files.readAllBytes(f);
        int n = (int) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        String header = new String(bytes, 8, n, java.nio.charset.StandardCharsets.UTF_8);
        assertThat(n % 8).isZero();
        assertThat(header.stripTrailing()).isEqualTo("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}");
        assertThat(header.substring(header.stripTrailing().length())).matches(" *");
        assertThat(bytes).hasSize(8 + n + 4);
        assertThat(Files.list(dir).map(q -> q.getFileName().toString())).containsExactly("one.safetensors");
    }

    @Test
    void readsBackThroughSafetensorsFile() throws IOException {
        new SafetensorsWriter(1L << 30, Map.of("format", "pt"), 64).writeCheckpoint(dir, specs(), INDEXED);
        try (SafetensorsFile st = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            assertThat(st.tensors().keySet()).containsExactlyInAnyOrder("a.f16", "b.f32", "c.bf16", "d.f32");
            WeightTensor d = st.tensors().get("d.f32");
            assertThat(d.shape()).containsExactly(1000);
            TensorSpec spec = specs().get(3);
            for (int i = 0; i < 1000; i++) {
                assertThat(d.data().getAtIndex(F32, i)).isEqualTo(expected(spec, i));
            }
        }
    }

    @Test
    void shardsWithIndexWhenOverTheLimit() throws IOException {
        List<TensorSpec> specs = List.of(
                new TensorSpec("t0", DType.F32, new long[] {10}),   // 40 bytes
                new TensorSpec("t1", DType.F32, new long[] {10}),   // 40 -> 80, fits 100
                new TensorSpec("t2", DType.F32, new long[] {10}),   // would be 120 -> new shard
                new TensorSpec("t3", DType.F32, new long[] {50}),   // 200 alone, over the limit -> own shard
                new TensorSpec("t4", DType.BF16, new long[] {5}));  // 10 bytes
        Files.writeString(dir.resolve("model.safetensors"), "stale");
        Files.writeString(dir.resolve("model-00001-of-00009.safetensors"), "stale");
        List<Path> files = new SafetensorsWriter(100).writeCheckpoint(dir, specs, INDEXED);

        assertThat(files).extracting(f -> f.getFileName().toString()).containsExactly(
                "model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors",
                "model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors",
                "model.safetensors.index.json");
        try (Stream<Path> listing = Files.list(dir)) {
            assertThat(listing.map(f -> f.getFileName().toString())).containsExactlyInAnyOrder(
                    "model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors",
                    "model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors",
                    "model.safetensors.index.json");
        }
        JsonNode index = JSON.readTree(dir.resolve("model.safetensors.index.json").toFile());
        assertThat(index.get("metadata").get("total_size").asLong()).isEqualTo(40 * 3 + 200 + 10);
        Map<String, String> actual = new HashMap<>();
        index.get("weight_map").properties().forEach(e -> actual.put(e.getKey(), e.getValue().asText()));
        assertThat(actual).isEqualTo(Map.of("t0", "model-00001-of-00004.safetensors",
                "t1", "model-00001-of-00004.safetensors", "t2", "model-00002-of-00004.safetensors",
                "t3", "model-00003-of-00004.safetensors", "t4", "model-00004-of-00004.safetensors"));
        // every name in the index is really in the file it points to
        for (var e : actual.entrySet()) {
            assertThat(parse(dir.resolve(e.getValue())).header().has(e.getKey())).as(e.getKey()).isTrue();
        }
    }

    @Test
    void copyingReSavesExistingTensorsBitForBit() throws IOException {
        new SafetensorsWriter(1L << 30, Map.of(), 64).writeCheckpoint(dir.resolve("a"), specs(), INDEXED);
        try (SafetensorsFile src = SafetensorsFile.open(dir.resolve("a/model.safetensors"))) {
            List<TensorSpec> again = src.tensors().values().stream().map(SafetensorsWriter::specOf).toList();
            WeightSource sourceView = new WeightSource() {
                @Override
                public Path origin() {
                    return src.file();
                }

                @Override
                public Optional<WeightTensor> find(String name) {
                    return Optional.ofNullable(src.tensors().get(name));
                }

                @Override
                public Set<String> names() {
                    return src.tensors().keySet();
                }

                @Override
                public void close() {
                }
            };
            new SafetensorsWriter(1L << 30, Map.of(), 64).writeCheckpoint(dir.resolve("b"), again,
                    SafetensorsWriter.copying(sourceView));
        }
        assertThat(Files.readAllBytes(dir.resolve("b/model.safetensors")))
                .isEqualTo(Files.readAllBytes(dir.resolve("a/model.safetensors")));
    }

    @Test
    void rejectsBadInput() {
        assertThatThrownBy(() -> new TensorSpec("q", DType.Q8_0, new long[] {32}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("q").hasMessageContaining("Q8_0");
        assertThatThrownBy(() -> new TensorSpec("__metadata__", DType.F32, new long[] {1}))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new TensorSpec("neg", DType.F32, new long[] {2, -1}))
                .hasMessageContaining("neg").hasMessageContaining("negative");
        assertThatThrownBy(() -> new SafetensorsWriter(0)).hasMessageContaining("maxShardBytes");
        TensorSpec x = new TensorSpec("x", DType.F32, new long[] {1});
        assertThatThrownBy(() -> new SafetensorsWriter().plan(List.of(x, x))).hasMessageContaining("x appears twice");
    }

    @Test
    void failedContentLeavesNoFileBehind() {
        TensorContent failing = (t, first, target) -> {
            throw new IllegalStateException("boom");
        };
        assertThatThrownBy(() -> new SafetensorsWriter().writeCheckpoint(dir, specs(), failing))
                .hasMessageContaining("boom");
        assertThat(dir.resolve("model.safetensors")).doesNotExist();
        assertThat(dir.resolve("model.safetensors.partial")).doesNotExist();
    }

    @Test
    void segmentFromChunkIsWholeElements() {
        // the content contract: target size is a whole number of elements for every dtype
        List<Long> sizes = new ArrayList<>();
        TensorContent recording = (t, first, target) -> {
            sizes.add(target.byteSize());
            MemorySegment.copy(new byte[(int) target.byteSize()], 0, target, ValueLayout.JAVA_BYTE, 0,
                    (int) target.byteSize());
        };
        new SafetensorsWriter(1L << 30, Map.of(), 24).writeCheckpoint(dir,
                List.of(new TensorSpec("h", DType.F16, new long[] {25})), recording);
        assertThat(sizes).containsExactly(24L, 24L, 2L);
    }
}
