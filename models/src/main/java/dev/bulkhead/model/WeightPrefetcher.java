package dev.bulkhead.model;

import dev.bulkhead.model.arch.ModelWeights;
import dev.bulkhead.model.tensor.WeightTensor;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Reads a model's memory-mapped weights into the page cache before the first request. NOTE: weights are
 * mapped lazily, so without this the first forward pass of a multi-GB model stalls on page faults for
 * seconds; doing it at load makes that time visible (with progress) instead of surprising a client.
 */
public final class WeightPrefetcher {

    /** Progress is reported at least this often (bytes). */
    private static final long CHUNK = 64L << 20;

    private WeightPrefetcher() {
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
                }
                done += len;
                progress.update("weights", done, total);
            }
        }
    }
}
