package dev.bulkhead.model;

/** Told how far a long load step (reading weights into memory) has got, for progress bars. */
@FunctionalInterface
public interface LoadProgress {

    /** Ignores all progress. */
    LoadProgress NONE = (what, done, total) -> { };

    /**
     * @param what  what is being loaded, e.g. "weights"
     * @param done  bytes done so far
     * @param total bytes in all
     */
    void update(String what, long done, long total);
}
