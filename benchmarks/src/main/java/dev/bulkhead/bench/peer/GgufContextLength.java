package dev.bulkhead.bench.peer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Rewrites {@code <arch>.context_length} of a GGUF file in place. NOTE: llama.cpp's llama2.c converter
 * hard-codes 128 there whatever the checkpoint's {@code seq_len}; Bulkhead sizes its RoPE table from it and
 * refuses positions past it, so the peer benchmark restores the shape's real context (1024 for stories110M)
 * before quantizing. llama.cpp itself sizes its context from the request.
 */
final class GgufContextLength {

    private static final int GGUF_TYPE_UINT32 = 4;
    private static final int HEADER_SCAN_BYTES = 16 << 20;

    private GgufContextLength() {
    }

    /** Sets {@code key} (a UINT32 entry that must occur exactly once in the header) to {@code value}. */
    static void set(Path gguf, String key, int value) {
        byte[] name = key.getBytes(StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(gguf, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer head = ByteBuffer.allocate((int) Math.min(ch.size(), HEADER_SCAN_BYTES)).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(head, 0);
            long found = -1;
            for (int i = 8; i + name.length + 8 <= head.limit(); i++) {
                if (head.getLong(i - 8) == name.length && matches(head, i, name)
                        && head.getInt(i + name.length) == GGUF_TYPE_UINT32) {
                    if (found >= 0) {
                        throw new IllegalStateException(gguf + ": " + key + " occurs twice");
                    }
                    found = i + name.length + 4;
                }
            }
            if (found < 0) {
                throw new IllegalStateException(gguf + " has no UINT32 " + key);
            }
            ch.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, value), found);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot patch " + key + " in " + gguf + ": " + e.getMessage(), e);
        }
    }

    private static boolean matches(ByteBuffer b, int at, byte[] name) {
        for (int j = 0; j < name.length; j++) {
            if (b.get(at + j) != name[j]) {
                return false;
            }
        }
        return true;
    }
}
