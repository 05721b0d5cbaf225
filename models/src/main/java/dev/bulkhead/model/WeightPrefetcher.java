package dev.bulkhead.model;

import dev.bulkhead.model.arch.ModelWeights;
import dev.bulkhead.model.tensor.MappedFile;
import dev.bulkhead.model.tensor.WeightTensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * Reads a model's memory-mapped weights into the page cache before the first request. NOTE: weights are
 * mapped lazily, so without this the first forward pass of a multi-GB model stalls on page faults for
 * seconds; doing it at load makes that time visible (with progress) instead of surprising a client.
 */
public final class WeightPrefetcher {

    /** Progress is reported at least this often (bytes). */
    private static final long CHUNK = 64L << 20;
    /** The smallest page size of the platforms we run on; a larger page is touched more than once. */
    private static final long PAGE = 4096;
    /** Where the touched bytes go, so that the reads are not dead code. */
    @SuppressWarnings("unused")
    private static volatile byte touched;

    private WeightPrefetcher() {
    }

    /**
     * Reads one byte of every page of {@code slice}, which faults a file's pages in. NOTE: the loaders hand out
     * their mappings as plain native segments ({@link MappedFile}), on which {@code load()} is unavailable.
     */
    private static void touchPages(MemorySegment slice) {
        byte sink = 0;
        for (long p = 0; p < slice.byteSize(); p += PAGE) {
            sink ^= slice.get(ValueLayout.JAVA_BYTE, p);
        }
        touched ^= sink;
    }

    /** Loads every mapped tensor into memory, reporting progress as {@code "weights"}. */
    public static void prefetch(ModelWeights weights, LoadProgress progress) {
        List<WeightTensor> all = weights.distinctTensors();
        long total = weights.byteSize();
        long done = 0;
        progress.update("weights", 0, total);
        for (WeightTensor t : all) {
            MemorySegment data = t.data();
            for (long off = 0; off < data.byteSize(); off += CHUNK) {
                long len = Math.min(CHUNK, data.byteSize() - off);
                MemorySegment slice = data.asSlice(off, len);
                if (slice.isMapped()) {
                    slice.load();
                } else {
                    touchPages(slice);
                }
                done += len;
                progress.update("weights", done, total);
            }
        }
    }
}
