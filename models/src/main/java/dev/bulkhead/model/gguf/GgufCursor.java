package dev.bulkhead.model.gguf;

import dev.bulkhead.model.ModelFormatException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Bounds-checked little-endian reads over a mapped GGUF file. Every read past the end becomes a
 * {@link ModelFormatException} naming what was being read, so no malformed file can cause an
 * IndexOutOfBoundsException.
 */
final class GgufCursor {

    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG_LE =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble DOUBLE_LE =
            ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final MemorySegment data;
    private long position;

    GgufCursor(Path file, MemorySegment data) {
        this.file = file;
        this.data = data;
    }

    long position() {
        return position;
    }

    long remaining() {
        return data.byteSize() - position;
    }

    long size() {
        return data.byteSize();
    }

    ModelFormatException error(String problem) {
        return new ModelFormatException(file, problem);
    }

    private long take(long bytes, String what) {
        if (bytes < 0 || bytes > remaining()) {
            throw error("truncated header: " + what + " at offset " + position + " needs " + bytes
                    + " bytes but the file has " + data.byteSize());
        }
        long at = position;
        position += bytes;
        return at;
    }

    int u8(String what) {
        return data.get(ValueLayout.JAVA_BYTE, take(1, what)) & 0xFF;
    }

    byte i8(String what) {
        return data.get(ValueLayout.JAVA_BYTE, take(1, what));
    }

    int u16(String what) {
        return data.get(SHORT_LE, take(2, what)) & 0xFFFF;
    }

    short i16(String what) {
        return data.get(SHORT_LE, take(2, what));
    }

    long u32(String what) {
        return data.get(INT_LE, take(4, what)) & 0xFFFF_FFFFL;
    }

    int i32(String what) {
        return data.get(INT_LE, take(4, what));
    }

    /** A 64-bit value; unsigned values above Long.MAX_VALUE come back negative. */
    long i64(String what) {
        return data.get(LONG_LE, take(8, what));
    }

    float f32(String what) {
        return data.get(FLOAT_LE, take(4, what));
    }

    double f64(String what) {
        return data.get(DOUBLE_LE, take(8, what));
    }

    /**
     * A count (uint64) of items of at least {@code minItemBytes} each; rejects counts that could not fit in the
     * rest of the file (which also rejects "negative" values above Long.MAX_VALUE) or in a Java array.
     */
    int count(String what, long minItemBytes) {
        long n = i64(what);
        if (n < 0 || n > Integer.MAX_VALUE - 8 || n * minItemBytes > remaining()) {
            throw error("absurd " + what + " " + Long.toUnsignedString(n) + " at offset " + (position - 8)
                    + ": the rest of the file holds " + remaining() + " bytes");
        }
        return (int) n;
    }

    String string(String what) {
        long length = i64(what + " length");
        if (length < 0 || length > remaining()) {
            throw error("string length " + Long.toUnsignedString(length) + " of " + what + " at offset "
                    + (position - 8) + " runs past the end of the file (" + data.byteSize() + " bytes)");
        }
        if (length > Integer.MAX_VALUE - 8) {
            throw error("string length " + length + " of " + what + " is too long");
        }
        // NOTE: lenient decoding (invalid bytes become U+FFFD): a few converted vocabularies hold
        // partial UTF-8 sequences, and refusing the whole file for one token would be worse.
        byte[] bytes = data.asSlice(take(length, what), length).toArray(ValueLayout.JAVA_BYTE);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    void seek(long newPosition) {
        position = newPosition;
    }
}
