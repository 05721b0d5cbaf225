package dev.bulkhead.model.gguf;

import dev.bulkhead.model.tensor.DType;
import dev.bulkhead.model.tensor.WeightTensor;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes GGUF v3 files: metadata key/values, tensor infos and aligned tensor data. Small by design (tensor
 * bytes are held in memory until {@link #write}); used by tools and by tests that build tiny files.
 * Not thread safe.
 */
public final class GgufWriter {

    private record Value(GgufValueType type, Object value) {
    }

    private record Tensor(String name, long typeId, long[] ggufDims, byte[] data) {
    }

    private final Map<String, Value> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private int version = 3;

    /**
     * Overrides the version field written in the header (default 3). Only the v3 layout is ever written, so
     * other values are for producing files that readers must reject.
     */
    public GgufWriter version(int value) {
        this.version = value;
        return this;
    }

    /**
     * Adds a key/value. {@code value} must match {@code type}: a {@link Number} for integer and float types,
     * a {@link Boolean}, a {@link String}, or a {@link GgufArray} for ARRAY.
     *
     * @throws IllegalArgumentException when the value does not match the type or the key is already set
     */
    public GgufWriter put(String key, GgufValueType type, Object value) {
        boolean ok = switch (type) {
            case BOOL -> value instanceof Boolean;
            case STRING -> value instanceof String;
            case ARRAY -> value instanceof GgufArray;
            default -> value instanceof Number;
        };
        if (!ok) {
            throw new IllegalArgumentException("metadata " + key + ": " + type + " needs a matching value, got "
                    + (value == null ? "null" : value.getClass().getSimpleName()));
        }
        if (metadata.putIfAbsent(key, new Value(type, value)) != null) {
            throw new IllegalArgumentException("metadata " + key + " is already set");
        }
        return this;
    }

    public GgufWriter putString(String key, String value) {
        return put(key, GgufValueType.STRING, value);
    }

    public GgufWriter putUInt32(String key, long value) {
        return put(key, GgufValueType.UINT32, value);
    }

    public GgufWriter putInt32(String key, int value) {
        return put(key, GgufValueType.INT32, value);
    }

    public GgufWriter putFloat32(String key, float value) {
        return put(key, GgufValueType.FLOAT32, value);
    }

    public GgufWriter putBool(String key, boolean value) {
        return put(key, GgufValueType.BOOL, value);
    }

    public GgufWriter putStringArray(String key, String... values) {
        return put(key, GgufValueType.ARRAY, new GgufArray(GgufValueType.STRING, values.clone()));
    }

    public GgufWriter putFloat32Array(String key, float... values) {
        return put(key, GgufValueType.ARRAY, new GgufArray(GgufValueType.FLOAT32, values.clone()));
    }

    public GgufWriter putInt32Array(String key, int... values) {
        long[] wide = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            wide[i] = values[i];
        }
        return put(key, GgufValueType.ARRAY, new GgufArray(GgufValueType.INT32, wide));
    }

    /**
     * Adds a tensor.
     *
     * @param shape row-major shape, outermost first (written to the file innermost first, as GGUF wants)
     * @param data  the stored bytes, exactly {@code type.byteSize(elements)} long
     */
    public GgufWriter addTensor(String name, DType type, long[] shape, byte[] data) {
        long expected = type.byteSize(WeightTensor.elementCount(shape));
        if (data.length != expected) {
            throw new IllegalArgumentException("tensor " + name + ": needs " + expected + " bytes, got " + data.length);
        }
        long[] dims = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            dims[i] = shape[shape.length - 1 - i];
        }
        return addRawTensor(name, GgmlType.idOf(type), dims, data);
    }

    /** Adds an F32 tensor of row-major {@code shape}. */
    public GgufWriter addTensor(String name, float[] values, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return addTensor(name, DType.F32, shape, b.array());
    }

    /**
     * Adds a tensor entry exactly as given, unchecked: any ggml type id, dims innermost first. For tools that
     * pass through types Bulkhead cannot load, and for tests that need malformed files.
     */
    public GgufWriter addRawTensor(String name, long ggmlTypeId, long[] ggufDims, byte[] data) {
        tensors.add(new Tensor(name, ggmlTypeId, ggufDims.clone(), data.clone()));
        return this;
    }

    /** Writes the file. */
    public void write(Path path) {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(path))) {
            writeTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + path, e);
        }
    }

    /** The file's bytes. */
    public byte[] toBytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            writeTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private void writeTo(OutputStream sink) throws IOException {
        int alignment = GgufFile.DEFAULT_ALIGNMENT;
        Value a = metadata.get("general.alignment");
        if (a != null && a.value() instanceof Number n) {
            alignment = n.intValue();
        }
        LittleEndianOut out = new LittleEndianOut(sink);
        out.i32(GgufFile.MAGIC);
        out.i32(version);
        out.i64(tensors.size());
        out.i64(metadata.size());
        for (Map.Entry<String, Value> e : metadata.entrySet()) {
            out.string(e.getKey());
            out.i32(e.getValue().type().id());
            writeValue(out, e.getValue().type(), e.getValue().value());
        }
        long offset = 0;
        for (Tensor t : tensors) {
            out.string(t.name());
            out.i32(t.ggufDims().length);
            for (long d : t.ggufDims()) {
                out.i64(d);
            }
            out.i32((int) t.typeId());
            out.i64(offset);
            offset = GgufFile.alignUp(offset + t.data().length, alignment);
        }
        out.pad(alignment);
        for (Tensor t : tensors) {
            out.bytes(t.data());
            out.pad(alignment);
        }
        out.flush();
    }

    private static void writeValue(LittleEndianOut out, GgufValueType type, Object value) throws IOException {
        switch (type) {
            case UINT8, INT8 -> out.i8(((Number) value).intValue());
            case UINT16, INT16 -> out.i16(((Number) value).intValue());
            case UINT32, INT32 -> out.i32(((Number) value).intValue());
            case UINT64, INT64 -> out.i64(((Number) value).longValue());
            case FLOAT32 -> out.i32(Float.floatToRawIntBits(((Number) value).floatValue()));
            case FLOAT64 -> out.i64(Double.doubleToRawLongBits(((Number) value).doubleValue()));
            case BOOL -> out.i8((Boolean) value ? 1 : 0);
            case STRING -> out.string((String) value);
            case ARRAY -> writeArray(out, (GgufArray) value);
        }
    }

    private static void writeArray(LittleEndianOut out, GgufArray array) throws IOException {
        out.i32(array.elementType().id());
        out.i64(array.length());
        for (int i = 0; i < array.length(); i++) {
            Object element = switch (array.values()) {
                case long[] v -> v[i];
                case float[] v -> v[i];
                case double[] v -> v[i];
                case boolean[] v -> v[i];
                case Object[] v -> v[i];
                default -> throw new IllegalArgumentException("unsupported array values " + array.values().getClass());
            };
            writeValue(out, array.elementType(), element);
        }
    }

    /** Little-endian primitives over a stream, counting bytes for padding. */
    private static final class LittleEndianOut {
        private final OutputStream out;
        private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        private long written;

        LittleEndianOut(OutputStream out) {
            this.out = out;
        }

        void i8(int v) throws IOException {
            out.write(v);
            written++;
        }

        void i16(int v) throws IOException {
            scratch.clear();
            bytes(scratch.putShort((short) v).array(), 2);
        }

        void i32(int v) throws IOException {
            scratch.clear();
            bytes(scratch.putInt(v).array(), 4);
        }

        void i64(long v) throws IOException {
            scratch.clear();
            bytes(scratch.putLong(v).array(), 8);
        }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            bytes(b);
        }

        void bytes(byte[] b) throws IOException {
            bytes(b, b.length);
        }

        private void bytes(byte[] b, int length) throws IOException {
            out.write(b, 0, length);
            written += length;
        }

        void pad(int alignment) throws IOException {
            while (written % alignment != 0) {
                i8(0);
            }
        }

        void flush() throws IOException {
            out.flush();
        }
    }
}
