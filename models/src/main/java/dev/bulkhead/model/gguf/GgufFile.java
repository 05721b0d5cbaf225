package dev.bulkhead.model.gguf;

import dev.bulkhead.model.ModelFormatException;
import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.MappedFile;
import dev.bulkhead.model.tensor.WeightTensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A memory-mapped GGUF file (versions 2 and 3): header, metadata, tensor infos and a zero-copy view of the
 * tensor data. The mapping lives in a shared {@link Arena} owned by this object; {@link #close()} unmaps it,
 * after which every {@link WeightTensor} handed out is invalid.
 *
 * <p>Every malformed input (bad magic, unsupported version, truncation, lengths or counts past the end of
 * the file, tensor data past the end, unsupported tensor types) is reported as a {@link ModelFormatException}
 * naming the file and the problem.
 */
public final class GgufFile implements AutoCloseable {

    /** "GGUF" read as a little-endian uint32. */
    static final int MAGIC = 0x46554747;
    static final int DEFAULT_ALIGNMENT = 32;
    private static final int MAX_DIMS = 4;
    /** Nesting depth of metadata arrays we accept; real files use 1. */
    private static final int MAX_ARRAY_DEPTH = 4;

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapped;
    private final int version;
    private final GgufMetadata metadata;
    private final Map<String, GgufTensorInfo> tensors;
    private final int alignment;
    private final long dataOffset;

    private GgufFile(Path path, Arena arena, MemorySegment mapped, int version, GgufMetadata metadata,
                     Map<String, GgufTensorInfo> tensors, int alignment, long dataOffset) {
        this.path = path;
        this.arena = arena;
        this.mapped = mapped;
        this.version = version;
        this.metadata = metadata;
        this.tensors = tensors;
        this.alignment = alignment;
        this.dataOffset = dataOffset;
    }

    /**
     * Maps and parses {@code path}.
     *
     * @throws ModelFormatException when the file cannot be read or is not a valid, supported GGUF file
     */
    public static GgufFile open(Path path) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment mapped;
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
                mapped = MappedFile.mapReadOnly(channel, arena);
            }
            GgufFile file = parse(path, arena, mapped);
            arena = null;
            return file;
        } catch (IOException e) {
            throw new ModelFormatException(path, "cannot read: " + e.getMessage(), e);
        } finally {
            if (arena != null) {
                arena.close();
            }
        }
    }

    private static GgufFile parse(Path path, Arena arena, MemorySegment mapped) {
        GgufCursor in = new GgufCursor(path, mapped);
        int magic = in.i32("magic");
        if (magic != MAGIC) {
            throw in.error(String.format("bad magic 0x%08x, expected \"GGUF\" (0x%08x): not a GGUF file",
                    magic, MAGIC));
        }
        long version = in.u32("version");
        if (version != 2 && version != 3) {
            throw in.error("unsupported GGUF version " + version + " (supported: 2, 3"
                    + (version > 0xFFFF ? "; a big-endian file?" : "") + ")");
        }
        // NOTE: minimum on-disk sizes bound the counts: a tensor info is at least 8+1+4+8+4+8 bytes,
        // a key/value at least 8+4+1.
        int tensorCount = in.count("tensor count", 8 + 4 + 8 + 4 + 8);
        int kvCount = in.count("metadata key/value count", 8 + 4 + 1);
        Map<String, Object> values = new LinkedHashMap<>();
        Map<String, GgufValueType> types = new HashMap<>();
        for (int i = 0; i < kvCount; i++) {
            String key = in.string("metadata key #" + i);
            GgufValueType type = valueType(in, "type of metadata " + key);
            if (values.containsKey(key)) {
                throw in.error("duplicate metadata key " + key);
            }
            values.put(key, readValue(in, type, key, 0));
            types.put(key, type);
        }
        GgufMetadata metadata = new GgufMetadata(values, types);
        int alignment = alignment(in, metadata);
        List<RawTensor> raw = new ArrayList<>(tensorCount);
        for (int i = 0; i < tensorCount; i++) {
            raw.add(readTensorInfo(in, i));
        }
        long dataOffset = alignUp(in.position(), alignment);
        if (dataOffset > in.size() && tensorCount > 0) {
            throw in.error("data section starts at offset " + dataOffset + ", past the end of the file ("
                    + in.size() + " bytes)");
        }
        long dataSize = Math.max(0, in.size() - dataOffset);
        Map<String, GgufTensorInfo> tensors = new LinkedHashMap<>();
        for (RawTensor t : raw) {
            GgufTensorInfo info = t.validate(in, alignment, dataSize);
            if (tensors.put(info.name(), info) != null) {
                throw in.error("duplicate tensor " + info.name());
            }
        }
        return new GgufFile(path, arena, mapped, (int) version, metadata, Collections.unmodifiableMap(tensors),
                alignment, dataOffset);
    }

    private static GgufValueType valueType(GgufCursor in, String what) {
        long id = in.u32(what);
        GgufValueType type = GgufValueType.fromId(id);
        if (type == null) {
            throw in.error("unknown metadata value type " + id + " for " + what.replace("type of ", ""));
        }
        return type;
    }

    private static Object readValue(GgufCursor in, GgufValueType type, String key, int depth) {
        return switch (type) {
            case UINT8 -> (long) in.u8(key);
            case INT8 -> (long) in.i8(key);
            case UINT16 -> (long) in.u16(key);
            case INT16 -> (long) in.i16(key);
            case UINT32 -> in.u32(key);
            case INT32 -> (long) in.i32(key);
            case UINT64, INT64 -> in.i64(key);
            case FLOAT32 -> in.f32(key);
            case FLOAT64 -> in.f64(key);
            case BOOL -> boolValue(in, key);
            case STRING -> in.string(key);
            case ARRAY -> readArray(in, key, depth);
        };
    }

    private static boolean boolValue(GgufCursor in, String key) {
        int b = in.u8(key);
        if (b > 1) {
            throw in.error("metadata " + key + ": bool value " + b + " is neither 0 nor 1");
        }
        return b == 1;
    }

    private static GgufArray readArray(GgufCursor in, String key, int depth) {
        if (depth >= MAX_ARRAY_DEPTH) {
            throw in.error("metadata " + key + ": arrays nested deeper than " + MAX_ARRAY_DEPTH);
        }
        GgufValueType element = valueType(in, "element type of metadata " + key);
        int n = in.count("length of array " + key, element.minimumSize());
        Object values = switch (element) {
            case FLOAT32 -> {
                float[] a = new float[n];
                for (int i = 0; i < n; i++) {
                    a[i] = in.f32(key);
                }
                yield a;
            }
            case FLOAT64 -> {
                double[] a = new double[n];
                for (int i = 0; i < n; i++) {
                    a[i] = in.f64(key);
                }
                yield a;
            }
            case BOOL -> {
                boolean[] a = new boolean[n];
                for (int i = 0; i < n; i++) {
                    a[i] = boolValue(in, key);
                }
                yield a;
            }
            case STRING -> {
                String[] a = new String[n];
                for (int i = 0; i < n; i++) {
                    a[i] = in.string(key + "[" + i + "]");
                }
                yield a;
            }
            case ARRAY -> {
                GgufArray[] a = new GgufArray[n];
                for (int i = 0; i < n; i++) {
                    a[i] = readArray(in, key + "[" + i + "]", depth + 1);
                }
                yield a;
            }
            default -> {
                long[] a = new long[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (Long) readValue(in, element, key, depth);
                }
                yield a;
            }
        };
        return new GgufArray(element, values);
    }

    private static int alignment(GgufCursor in, GgufMetadata metadata) {
        if (!metadata.contains("general.alignment")) {
            return DEFAULT_ALIGNMENT;
        }
        long a = metadata.getLong("general.alignment").orElse(-1);
        if (a <= 0 || a > (1 << 20) || Long.bitCount(a) != 1) {
            throw in.error("general.alignment must be a power of two up to 1048576, got "
                    + metadata.get("general.alignment").orElse(null));
        }
        return (int) a;
    }

    private static RawTensor readTensorInfo(GgufCursor in, int index) {
        String name = in.string("name of tensor #" + index);
        long nDims = in.u32("dimension count of tensor " + name);
        if (nDims < 1 || nDims > MAX_DIMS) {
            throw in.error("tensor " + name + " has " + nDims + " dimensions (supported: 1 to " + MAX_DIMS + ")");
        }
        long[] ggufDims = new long[(int) nDims];
        for (int d = 0; d < nDims; d++) {
            ggufDims[d] = in.i64("dimension " + d + " of tensor " + name);
        }
        long typeId = in.u32("type of tensor " + name);
        long offset = in.i64("data offset of tensor " + name);
        return new RawTensor(name, ggufDims, typeId, offset);
    }

    static long alignUp(long offset, int alignment) {
        return (offset + alignment - 1) / alignment * alignment;
    }

    /** A tensor info as read, before its type, shape and extent are checked against the file. */
    private record RawTensor(String name, long[] ggufDims, long typeId, long offset) {

        GgufTensorInfo validate(GgufCursor in, int alignment, long dataSize) {
            DType type = GgmlType.toDType(typeId);
            if (type == null) {
                throw in.error("tensor " + name + " has unsupported ggml type " + GgmlType.describe(typeId)
                        + " (supported: " + GgmlType.supportedList() + ")");
            }
            long[] shape = new long[ggufDims.length];
            long elements = 1;
            for (int d = 0; d < ggufDims.length; d++) {
                long dim = ggufDims[d];
                if (dim <= 0 || dim > dataSize * type.blockSize()) {
                    throw in.error("tensor " + name + " has absurd dimension " + Long.toUnsignedString(dim)
                            + " (data section holds " + dataSize + " bytes)");
                }
                elements = Math.multiplyHigh(elements, dim) != 0 ? -1 : elements * dim;
                if (elements < 0) {
                    throw in.error("tensor " + name + " element count overflows");
                }
                shape[ggufDims.length - 1 - d] = dim;
            }
            if (ggufDims[0] % type.blockSize() != 0) {
                throw in.error("tensor " + name + ": innermost dimension " + ggufDims[0] + " is not a multiple of "
                        + type + "'s block size " + type.blockSize());
            }
            long bytes = type.byteSize(elements);
            if (offset < 0 || offset % alignment != 0) {
                throw in.error("tensor " + name + " data offset " + Long.toUnsignedString(offset)
                        + " is not a multiple of the alignment " + alignment);
            }
            if (offset > dataSize || bytes > dataSize - offset) {
                throw in.error("tensor " + name + " data [" + offset + ", " + (offset + bytes)
                        + ") runs past the end of the file (data section holds " + dataSize + " bytes)");
            }
            return new GgufTensorInfo(name, type, shape, offset, bytes);
        }
    }

    /** The file this was read from. */
    public Path path() {
        return path;
    }

    /** GGUF format version (2 or 3). */
    public int version() {
        return version;
    }

    public GgufMetadata metadata() {
        return metadata;
    }

    /** Every tensor in file order, keyed by its llama.cpp name. */
    public Map<String, GgufTensorInfo> tensorInfos() {
        return tensors;
    }

    public Optional<GgufTensorInfo> tensorInfo(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** Alignment of tensor data ({@code general.alignment}, default 32). */
    public int alignment() {
        return alignment;
    }

    /** Absolute file offset where the tensor data section starts. */
    public long dataOffset() {
        return dataOffset;
    }

    /** Shortcut for {@code metadata().chatTemplate()}. */
    public Optional<String> chatTemplate() {
        return metadata.chatTemplate();
    }

    /**
     * A zero-copy view of tensor {@code name} (a llama.cpp name), shaped row-major, with the same name.
     *
     * @throws ModelFormatException when the file has no such tensor
     */
    public WeightTensor tensor(String name) {
        return tensor(name, name);
    }

    /** Like {@link #tensor(String)} but the returned tensor is called {@code exposedName}. */
    WeightTensor tensor(String name, String exposedName) {
        GgufTensorInfo info = tensorInfo(name)
                .orElseThrow(() -> new ModelFormatException(path, "missing tensor " + name));
        MemorySegment slice = mapped.asSlice(dataOffset + info.dataOffset(), info.byteSize());
        return new WeightTensor(exposedName, info.type(), info.shape(), slice);
    }

    /** Unmaps the file. */
    @Override
    public void close() {
        arena.close();
    }

    @Override
    public String toString() {
        return "GgufFile[" + path + ", v" + version + ", " + metadata.keys().size() + " keys, " + tensors.size()
                + " tensors]";
    }
}
