package dev.bulkhead.model.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulkhead.model.ModelFormatException;
import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.MappedFile;
import dev.bulkhead.model.tensor.WeightTensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One {@code .safetensors} file, memory-mapped read-only. Tensors are zero-copy slices of the mapping; they
 * stay valid until {@link #close()} unmaps the file.
 *
 * <p>Format: 8-byte little-endian header length N, N bytes of JSON ({@code name -> {dtype, shape,
 * data_offsets}} plus optional {@code __metadata__}), then the data section; offsets are relative to it.
 */
public final class SafetensorsFile implements AutoCloseable {

    /** NOTE: the reference implementation rejects headers over 100 MB; a larger one is a corrupt length. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final Arena arena;
    private final Map<String, WeightTensor> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path file, Arena arena, Map<String, WeightTensor> tensors, Map<String, String> metadata) {
        this.file = file;
        this.arena = arena;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Maps {@code file} and parses its header; every problem is a {@link ModelFormatException} naming the file. */
    public static SafetensorsFile open(Path file) {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment mapped;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                mapped = MappedFile.mapReadOnly(ch, arena);
            }
            SafetensorsFile st = parse(file, arena, mapped);
            return st;
        } catch (IOException e) {
            arena.close();
            throw new ModelFormatException(file, "cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static SafetensorsFile parse(Path file, Arena arena, MemorySegment mapped) {
        long size = mapped.byteSize();
        if (size < 8) {
            throw new ModelFormatException(file, "truncated: " + size + " bytes, the 8-byte header length is missing");
        }
        long headerLen = mapped.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES) {
            throw new ModelFormatException(file, "header length " + headerLen + " is outside (0, " + MAX_HEADER_BYTES + "]");
        }
        if (8 + headerLen > size) {
            throw new ModelFormatException(file, "header length " + headerLen + " runs past the end of the file ("
                    + size + " bytes)");
        }
        byte[] headerBytes = mapped.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
        JsonNode header;
        try {
            header = JSON.readTree(new String(headerBytes, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(file, "header is not valid JSON: " + e.getOriginalMessage());
        }
        if (header == null || !header.isObject()) {
            throw new ModelFormatException(file, "header is not a JSON object");
        }
        MemorySegment data = mapped.asSlice(8 + headerLen);
        Map<String, WeightTensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                e.getValue().properties().forEach(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            tensors.put(e.getKey(), tensor(file, e.getKey(), e.getValue(), data));
        }
        return new SafetensorsFile(file, arena, Collections.unmodifiableMap(tensors),
                Collections.unmodifiableMap(metadata));
    }

    private static WeightTensor tensor(Path file, String name, JsonNode info, MemorySegment data) {
        String dtypeName = info.path("dtype").asText("");
        DType dtype = switch (dtypeName) {
            case "F32" -> DType.F32;
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            default -> throw new ModelFormatException(file, "tensor " + name + " has unsupported dtype '" + dtypeName
                    + "' (supported: F32, F16, BF16)");
        };
        JsonNode shapeNode = info.path("shape");
        JsonNode offsets = info.path("data_offsets");
        if (!shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
            throw new ModelFormatException(file, "tensor " + name + " needs a shape array and two data_offsets");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.canConvertToLong() || d.asLong() < 0) {
                throw new ModelFormatException(file, "tensor " + name + " has a bad shape " + shapeNode);
            }
            shape[i] = d.asLong();
        }
        long begin = offsets.get(0).asLong(-1);
        long end = offsets.get(1).asLong(-1);
        if (begin < 0 || end < begin || end > data.byteSize()) {
            throw new ModelFormatException(file, "tensor " + name + " data_offsets [" + begin + ", " + end
                    + "] fall outside the data section of " + data.byteSize() + " bytes (file truncated?)");
        }
        long expected;
        try {
            expected = dtype.byteSize(WeightTensor.elementCount(shape));
        } catch (ArithmeticException e) {
            throw new ModelFormatException(file, "tensor " + name + " shape " + Arrays.toString(shape) + " overflows");
        }
        if (end - begin != expected) {
            throw new ModelFormatException(file, "tensor " + name + " is " + dtype + " " + Arrays.toString(shape)
                    + " = " + expected + " bytes but its data_offsets span " + (end - begin));
        }
        return new WeightTensor(name, dtype, shape, data.asSlice(begin, end - begin));
    }

    public Path file() {
        return file;
    }

    /** Tensors in header order. */
    public Map<String, WeightTensor> tensors() {
        return tensors;
    }

    /** The {@code __metadata__} entries (may be empty). */
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public void close() {
        arena.close();
    }
}
