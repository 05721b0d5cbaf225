package dev.bulkhead.model.hub;

import java.util.List;

/**
 * The files of a hub repository at a revision.
 *
 * @param repo     repository id, e.g. {@code org/name}
 * @param revision what the user asked for (a branch, tag or commit)
 * @param commit   the commit the revision resolved to (the revision itself when the hub did not say)
 * @param files    every file, in the hub's order
 */
public record RepoFiles(String repo, String revision, String commit, List<HubFile> files) {

    public RepoFiles {
        files = List.copyOf(files);
    }
}
