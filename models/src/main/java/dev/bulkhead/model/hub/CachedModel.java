package dev.bulkhead.model.hub;

import java.nio.file.Path;

/**
 * A model snapshot that was completely downloaded into a {@link HubCache}.
 *
 * @param repo      repository id, e.g. {@code org/name}
 * @param revision  the revision it was pulled as (branch, tag or commit)
 * @param commit    the commit that revision resolved to
 * @param sizeBytes total size of its files
 * @param path      the snapshot directory, usable as {@code --model}
 */
public record CachedModel(String repo, String revision, String commit, long sizeBytes, Path path) {
}
