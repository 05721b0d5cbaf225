package dev.bulkhead.model.tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;

/**
 * Maps a weight file read-only and hands it out as a plain native segment over the mapping, not as the mapped
 * segment {@link FileChannel#map} returns. The view has the mapping's arena, so closing the arena invalidates
 * both at once, and it is read-only like the mapping.
 *
 * <p>NOTE: the CPU kernels read weights from two kinds of segment, these files and the copies the engine keeps
 * off the heap (the repacked Q4_0, Q4_K and Q6_K matrices), allocated native. The JDK's segment access code
 * that C2 inlines into a kernel carries one type profile for the whole JVM; with mapped and native segments
 * both in it, C2 compiled Q6_K's decode kernel with the segment's class, bounds and session checked again on
 * every access (146 instructions per 32 weights in its assembly against 50 with one class; AVX2, JDK 25), and
 * Q4_0 and Q4_K_M decode ran about a third slower end to end. One class of segment keeps every kernel on the
 * code that hoists those checks out of its loop. The price: {@link MemorySegment#isMapped()} is false and
 * {@link MemorySegment#load()} unavailable, so {@code WeightPrefetcher} touches the pages itself.
 */
public final class MappedFile {

    private MappedFile() {
    }

    /** The whole of {@code channel}, mapped read-only in {@code arena}, as a native read-only segment. */
    public static MemorySegment mapReadOnly(FileChannel channel, Arena arena) throws IOException {
        MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
        return MemorySegment.ofAddress(mapped.address()).reinterpret(mapped.byteSize(), arena, null).asReadOnly();
    }
}
