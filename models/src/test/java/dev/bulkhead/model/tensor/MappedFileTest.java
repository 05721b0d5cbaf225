package dev.bulkhead.model.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MappedFileTest {

    @TempDir
    Path dir;

    private Path file(byte[] bytes) throws IOException {
        Path p = dir.resolve("weights.bin");
        Files.write(p, bytes);
        return p;
    }

    private static MemorySegment map(Path p, Arena arena) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            return MappedFile.mapReadOnly(ch, arena);
        }
    }

    @Test
    void theFileIsAReadOnlyNativeSegmentNotAMappedOne() throws IOException {
        byte[] bytes = new byte[3 * 4096 + 17];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 31 + 7);
        }
        try (Arena arena = Arena.ofShared()) {
            MemorySegment s = map(file(bytes), arena);
            assertThat(s.toArray(ValueLayout.JAVA_BYTE)).isEqualTo(bytes);
            // One class of segment for every weight the kernels read (see MappedFile): native, like the copies.
            assertThat(s.isNative()).isTrue();
            assertThat(s.isMapped()).isFalse();
            assertThat(s.isReadOnly()).isTrue();
            assertThatThrownBy(() -> s.set(ValueLayout.JAVA_BYTE, 0, (byte) 1))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThat(s.asSlice(4096, 16).isMapped()).isFalse();
        }
    }

    @Test
    void closingTheArenaInvalidatesTheSegment() throws IOException {
        Arena arena = Arena.ofShared();
        MemorySegment s = map(file(new byte[] {1, 2, 3}), arena);
        assertThat(s.get(ValueLayout.JAVA_BYTE, 2)).isEqualTo((byte) 3);
        arena.close();
        assertThat(s.scope().isAlive()).isFalse();
        assertThatThrownBy(() -> s.get(ValueLayout.JAVA_BYTE, 2)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void anEmptyFileIsAnEmptySegment() throws IOException {
        try (Arena arena = Arena.ofShared()) {
            assertThat(map(file(new byte[0]), arena).byteSize()).isZero();
        }
    }
}
