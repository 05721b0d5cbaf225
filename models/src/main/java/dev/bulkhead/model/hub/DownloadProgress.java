package dev.bulkhead.model.hub;

/**
 * Told how far each file's download has got. For every file it is called at least once when the file
 * starts (with the bytes already present, e.g. from a resumed partial download) and once with
 * {@code done == total} when the file is complete; calls for one file come from one thread.
 */
@FunctionalInterface
public interface DownloadProgress {

    /** Ignores all progress. */
    DownloadProgress NONE = (file, done, total) -> { };

    /**
     * @param file  the file's path inside the repository
     * @param done  bytes of it on disk so far
     * @param total its size in bytes, or -1 while unknown
     */
    void update(String file, long done, long total);
}
