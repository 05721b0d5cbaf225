package dev.bulkhead.model.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.WeightSource;
import dev.bulkhead.model.tensor.WeightTensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Writes {@code .safetensors} checkpoints the way Hugging Face's {@code save_pretrained} lays them out: one
 * {@code model.safetensors}, or, past the maximum shard size, {@code model-0000N-of-0000M.safetensors} files
 * plus {@code model.safetensors.index.json}.
 *
 * <p>File format: 8-byte little-endian header length N, N bytes of JSON ({@code __metadata__} first, then
 * {@code name -> {dtype, shape, data_offsets}}, padded with spaces so the data starts 8-byte aligned), then
 * the data section. Tensor data is streamed chunk by chunk from a {@link TensorContent} through a
 * {@link FileChannel}, so a multi-gigabyte checkpoint never sits in the Java heap.
 */
public final class SafetensorsWriter {

    /** Hugging Face's default {@code max_shard_size} ("5GB", decimal). */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;

    /** Name of an unsharded checkpoint. */
    public static final String SINGLE_FILE = "model.safetensors";

    /** Name of the shard index of a sharded checkpoint. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    /** NOTE: 8 MiB chunks keep the number of write calls low without holding much off-heap memory. */
    static final int CHUNK_BYTES = 8 << 20;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final long maxShardBytes;
    private final Map<String, String> metadata;
    private final int chunkBytes;

    /**
     * One tensor to write.
     *
     * @param name  Hugging Face tensor name
     * @param dtype F32, F16 or BF16 (the types the safetensors reader accepts)
     * @param shape row-major shape, outermost first
     */
    public record TensorSpec(String name, DType dtype, long[] shape) {

        public TensorSpec {
            if (name == null || name.isBlank() || name.equals("__metadata__")) {
                throw new IllegalArgumentException("tensor name must be non-blank and not __metadata__, got '"
                        + name + "'");
            }
            if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) {
                throw new IllegalArgumentException("tensor " + name + ": dtype must be F32, F16 or BF16, got " + dtype);
            }
            shape = shape.clone();
            for (long d : shape) {
                if (d < 0) {
                    throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape)
                            + " has a negative dimension");
                }
            }
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        public long elementCount() {
            return WeightTensor.elementCount(shape);
        }

        /** Bytes of this tensor's data. */
        public long byteSize() {
            return dtype.byteSize(elementCount());
        }

        /** Bytes per element (4 for F32, 2 for F16/BF16). */
        public int elementBytes() {
            return dtype.bytesPerBlock();
        }

        /** The safetensors dtype string. */
        public String safetensorsDtype() {
            return dtype.name();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TensorSpec t && t.name.equals(name) && t.dtype == dtype && Arrays.equals(t.shape, shape);
        }

        @Override
        public int hashCode() {
            return name.hashCode() * 31 + Arrays.hashCode(shape);
        }

        @Override
        public String toString() {
            return name + " " + dtype + " " + Arrays.toString(shape);
        }
    }

    /** Produces the values of tensors, one chunk at a time. */
    @FunctionalInterface
    public interface TensorContent {

        /**
         * Writes elements {@code firstElement ..} of {@code tensor} into {@code target}, little endian, in the
         * tensor's dtype; {@code target.byteSize()} is a whole number of elements and must be filled completely.
         */
        void fill(TensorSpec tensor, long firstElement, MemorySegment target);
    }

    /** One shard of a planned checkpoint: its file name and its tensors, in data order. */
    public record Shard(String fileName, List<TensorSpec> tensors) {

        public Shard {
            tensors = List.copyOf(tensors);
        }

        /** Bytes of tensor data (headers excluded). */
        public long dataBytes() {
            return tensors.stream().mapToLong(TensorSpec::byteSize).sum();
        }
    }

    /**
     * Content that copies each tensor from {@code source} (same names and dtypes), e.g. to re-save a llama2.c
     * or safetensors checkpoint.
     */
    public static TensorContent copying(WeightSource source) {
        return (spec, first, target) -> {
            WeightTensor t = source.get(spec.name());
            if (t.dtype() != spec.dtype() || t.elementCount() != spec.elementCount()) {
                throw new IllegalArgumentException("tensor " + spec.name() + " is " + t + " in the source but "
                        + spec + " in the plan");
            }
            MemorySegment.copy(t.data(), first * spec.elementBytes(), target, 0, target.byteSize());
        };
    }

    /** The spec of an existing tensor (same name, dtype and shape). */
    public static TensorSpec specOf(WeightTensor t) {
        return new TensorSpec(t.name(), t.dtype(), t.shape());
    }

    /** A writer with the default 5 GB shard size and {@code {"format":"pt"}} metadata. */
    public SafetensorsWriter() {
        this(DEFAULT_MAX_SHARD_BYTES);
    }

    /** A writer that starts a new shard before a tensor would push a shard past {@code maxShardBytes}. */
    public SafetensorsWriter(long maxShardBytes) {
        this(maxShardBytes, Map.of("format", "pt"));
    }

    /**
     * @param maxShardBytes maximum tensor bytes per shard (a single tensor larger than this gets a shard of its own)
     * @param metadata      the {@code __metadata__} entries; empty to write none
     */
    public SafetensorsWriter(long maxShardBytes, Map<String, String> metadata) {
        this(maxShardBytes, metadata, CHUNK_BYTES);
    }

    /** With a chosen chunk size, so tests can cross chunk boundaries with tiny tensors. */
    SafetensorsWriter(long maxShardBytes, Map<String, String> metadata, int chunkBytes) {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be > 0, got " + maxShardBytes);
        }
        if (chunkBytes < 8 || chunkBytes % 8 != 0) {
            throw new IllegalArgumentException("chunkBytes must be a positive multiple of 8, got " + chunkBytes);
        }
        this.maxShardBytes = maxShardBytes;
        this.metadata = Map.copyOf(metadata);
        this.chunkBytes = chunkBytes;
    }

    /**
     * Splits {@code tensors} into shards in order, the way transformers' {@code split_torch_state_dict_into_shards}
     * does: a tensor that would push the current shard past the limit starts a new one.
     */
    public List<Shard> plan(List<TensorSpec> tensors) {
        checkUniqueNames(tensors);
        List<List<TensorSpec>> groups = new ArrayList<>();
        List<TensorSpec> current = new ArrayList<>();
        long currentBytes = 0;
        for (TensorSpec t : tensors) {
            if (!current.isEmpty() && currentBytes + t.byteSize() > maxShardBytes) {
                groups.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(t);
            currentBytes += t.byteSize();
        }
        groups.add(current);
        if (groups.size() == 1) {
            return List.of(new Shard(SINGLE_FILE, groups.getFirst()));
        }
        List<Shard> shards = new ArrayList<>(groups.size());
        for (int i = 0; i < groups.size(); i++) {
            shards.add(new Shard(String.format("model-%05d-of-%05d.safetensors", i + 1, groups.size()), groups.get(i)));
        }
        return shards;
    }

    /**
     * Writes a whole checkpoint into {@code outDir}: {@code model.safetensors}, or shards and the index.
     * Checkpoint files already in {@code outDir} from an earlier run (a single file, shards, an index) are
     * removed first so a loader cannot pick up a stale mix.
     *
     * @return the files written, index last when sharded
     */
    public List<Path> writeCheckpoint(Path outDir, List<TensorSpec> tensors, TensorContent content) {
        List<Shard> shards = plan(tensors);
        try {
            Files.createDirectories(outDir);
            removeStaleCheckpoint(outDir);
            List<Path> written = new ArrayList<>();
            for (Shard shard : shards) {
                Path file = outDir.resolve(shard.fileName());
                writeFile(file, shard.tensors(), content);
                written.add(file);
            }
            if (shards.size() > 1) {
                Path index = outDir.resolve(INDEX_FILE);
                Files.writeString(index, indexJson(shards));
                written.add(index);
            }
            return List.copyOf(written);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint to " + outDir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes one {@code .safetensors} file holding {@code tensors}. The file appears under its name only when
     * complete (it is written beside it and renamed).
     */
    public void writeFile(Path file, List<TensorSpec> tensors, TensorContent content) throws IOException {
        checkUniqueNames(tensors);
        // NOTE: largest elements first, as the reference implementation orders data, so every tensor starts at
        // an offset aligned to its element size.
        List<TensorSpec> ordered = tensors.stream()
                .sorted(Comparator.comparingInt(TensorSpec::elementBytes).reversed())
                .toList();
        byte[] header = header(ordered);
        Path partial = file.resolveSibling(file.getFileName() + ".partial");
        try (FileChannel ch = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
             Arena arena = Arena.ofConfined()) {
            MemorySegment chunk = arena.allocate(chunkBytes, 8);
            ByteBuffer lengthPrefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            lengthPrefix.putLong(header.length).flip();
            writeFully(ch, lengthPrefix);
            writeFully(ch, ByteBuffer.wrap(header));
            for (TensorSpec t : ordered) {
                writeTensor(ch, chunk, t, content);
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(partial);
            throw e;
        }
        try {
            Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void writeTensor(FileChannel ch, MemorySegment chunk, TensorSpec t, TensorContent content)
            throws IOException {
        long elements = t.elementCount();
        int elementBytes = t.elementBytes();
        long perChunk = chunk.byteSize() / elementBytes;
        for (long first = 0; first < elements; first += perChunk) {
            long count = Math.min(perChunk, elements - first);
            MemorySegment target = chunk.asSlice(0, count * elementBytes);
            content.fill(t, first, target);
            writeFully(ch, target.asByteBuffer());
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            ch.write(buffer);
        }
    }

    /** The JSON header, padded with spaces to a multiple of 8 bytes. */
    byte[] header(List<TensorSpec> ordered) {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject("__metadata__");
            new TreeMap<>(metadata).forEach(meta::put);
        }
        long offset = 0;
        for (TensorSpec t : ordered) {
            ObjectNode info = root.putObject(t.name());
            info.put("dtype", t.safetensorsDtype());
            ArrayNode shape = info.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            long end = offset + t.byteSize();
            info.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize safetensors header", e);
        }
        int padded = (json.length + 7) & ~7;
        byte[] header = Arrays.copyOf(json, padded);
        Arrays.fill(header, json.length, padded, (byte) ' ');
        return header;
    }

    /** The index transformers writes: total tensor bytes and a name-sorted weight map, indented by 2. */
    static String indexJson(List<Shard> shards) {
        Map<String, Object> weightMap = new TreeMap<>();
        long total = 0;
        for (Shard s : shards) {
            total += s.dataBytes();
            for (TensorSpec t : s.tensors()) {
                weightMap.put(t.name(), s.fileName());
            }
        }
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("metadata", Map.of("total_size", total));
        index.put("weight_map", weightMap);
        try {
            return JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(index) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize the shard index", e);
        }
    }

    private static void checkUniqueNames(List<TensorSpec> tensors) {
        Set<String> seen = new HashSet<>();
        for (TensorSpec t : tensors) {
            if (!seen.add(t.name())) {
                throw new IllegalArgumentException("tensor " + t.name() + " appears twice");
            }
        }
    }

    private static void removeStaleCheckpoint(Path outDir) throws IOException {
        Files.deleteIfExists(outDir.resolve(SINGLE_FILE));
        Files.deleteIfExists(outDir.resolve(INDEX_FILE));
        try (DirectoryStream<Path> shards = Files.newDirectoryStream(outDir, "model-*-of-*.safetensors")) {
            for (Path p : shards) {
                Files.delete(p);
            }
        }
    }
}
