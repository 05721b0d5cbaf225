package dev.bulkhead.model.hub;

import java.util.Objects;

/**
 * One file of a hub repository at a revision.
 *
 * @param path    path inside the repository, {@code /}-separated (the hub's {@code rfilename})
 * @param size    size in bytes, or -1 when the hub did not say
 * @param sha256  SHA-256 of the content (lower-case hex) for LFS files, else null
 * @param gitSha1 git blob id of the content for non-LFS files, else null
 */
public record HubFile(String path, long size, String sha256, String gitSha1) {

    public HubFile {
        Objects.requireNonNull(path, "path");
        if (size < -1) {
            throw new IllegalArgumentException("size must be >= -1, got " + size);
        }
    }

    /** A file whose size and checksums are unknown. */
    public static HubFile named(String path) {
        return new HubFile(path, -1, null, null);
    }

    /** Whether the hub stores this file in LFS (it then has a SHA-256). */
    public boolean isLfs() {
        return sha256 != null;
    }
}
