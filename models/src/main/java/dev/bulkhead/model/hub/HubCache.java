package dev.bulkhead.model.hub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The local directory that pulled models live in, laid out like huggingface_hub's cache minus its blob
 * store (files sit directly in the snapshot instead of being symlinks into {@code blobs/}):
 * <pre>
 * {root}/models--{org}--{name}/
 *     refs/{revision}                  the commit the revision resolved to; written last, so it marks a complete pull
 *     snapshots/{commit}/{file}        the files; {file}.incomplete while downloading
 * </pre>
 *
 * @param root the cache directory
 */
public record HubCache(Path root) {

    private static final String PREFIX = "models--";
    private static final String PARTIAL_SUFFIX = ".incomplete";
    // NOTE: the hub's own rule for repo ids; anything else could escape the cache directory.
    private static final Pattern REPO_ID = Pattern.compile("([A-Za-z0-9][A-Za-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._-]*");

    public HubCache {
        Objects.requireNonNull(root, "root");
    }

    /** The cache at {@link #defaultRoot(Map, Path)} for this process's environment. */
    public static HubCache defaultCache() {
        return new HubCache(defaultRoot(System.getenv(), Path.of(System.getProperty("user.home", "."))));
    }

    /** {@code $BULKHEAD_CACHE}, else {@code $XDG_CACHE_HOME/bulkhead/hub}, else {@code ~/.cache/bulkhead/hub}. */
    public static Path defaultRoot(Map<String, String> env, Path home) {
        String explicit = env.get("BULKHEAD_CACHE");
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        String xdg = env.get("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "bulkhead", "hub");
        }
        return home.resolve(".cache").resolve("bulkhead").resolve("hub");
    }

    /** Throws unless {@code repo} is a valid hub repository id ({@code org/name} or a bare legacy {@code name}). */
    public static String checkRepoId(String repo) {
        if (repo == null || !REPO_ID.matcher(repo).matches() || repo.contains("--") || repo.contains("..")) {
            throw new IllegalArgumentException("not a hub repository id: '" + repo + "' (expected ORG/NAME)");
        }
        return repo;
    }

    /** The directory of everything cached for {@code repo}. */
    public Path repoDir(String repo) {
        return root.resolve(PREFIX + checkRepoId(repo).replace("/", "--"));
    }

    /** The directory the files of {@code repo} at {@code commit} go into. */
    public Path snapshotDir(String repo, String commit) {
        return repoDir(repo).resolve("snapshots").resolve(safeSegment(commit, "commit"));
    }

    /** Where {@code file} of the snapshot goes; rejects paths that would leave the snapshot directory. */
    public Path fileIn(Path snapshot, String file) {
        Path p = snapshot.resolve(file).normalize();
        if (!p.startsWith(snapshot) || p.equals(snapshot) || file.startsWith("/")) {
            throw new HubException("refusing the repository file path '" + file + "': it leaves the snapshot directory");
        }
        return p;
    }

    /** Records that {@code revision} of {@code repo} resolved to {@code commit} and is completely downloaded. */
    public void writeRef(String repo, String revision, String commit) {
        Path ref = repoDir(repo).resolve("refs").resolve(safeSegment(revision, "revision")).normalize();
        try {
            Files.createDirectories(ref.getParent());
            Path tmp = Files.createTempFile(ref.getParent(), ".ref", ".tmp");
            Files.writeString(tmp, commit, StandardCharsets.UTF_8);
            Files.move(tmp, ref, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + ref + ": " + e.getMessage(), e);
        }
    }

    /** Every completely pulled snapshot (one per repo and revision), sorted by repo then revision. */
    public List<CachedModel> list() {
        List<CachedModel> models = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return models;
        }
        try (Stream<Path> repos = Files.list(root)) {
            for (Path repoDir : repos.filter(Files::isDirectory).sorted().toList()) {
                String dirName = repoDir.getFileName().toString();
                if (!dirName.startsWith(PREFIX)) {
                    continue;
                }
                String repo = dirName.substring(PREFIX.length()).replace("--", "/");
                Path refs = repoDir.resolve("refs");
                if (!Files.isDirectory(refs)) {
                    continue;
                }
                try (Stream<Path> walk = Files.walk(refs)) {
                    for (Path ref : walk.filter(Files::isRegularFile).sorted().toList()) {
                        String revision = refs.relativize(ref).toString().replace('\\', '/');
                        String commit = Files.readString(ref, StandardCharsets.UTF_8).strip();
                        Path snapshot = repoDir.resolve("snapshots").resolve(commit);
                        if (Files.isDirectory(snapshot)) {
                            models.add(new CachedModel(repo, revision, commit, sizeOf(snapshot), snapshot));
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the model cache " + root + ": " + e.getMessage(), e);
        }
        models.sort(Comparator.comparing(CachedModel::repo).thenComparing(CachedModel::revision));
        return models;
    }

    /**
     * The pulled snapshot of {@code repo}: its {@code main} revision when pulled, else the only revision pulled;
     * empty when none is (or several are and none is {@code main}).
     */
    public Optional<CachedModel> find(String repo) {
        checkRepoId(repo);
        List<CachedModel> pulled = list().stream().filter(m -> m.repo().equals(repo)).toList();
        Optional<CachedModel> main = pulled.stream().filter(m -> m.revision().equals("main")).findFirst();
        return main.isPresent() || pulled.size() != 1 ? main : Optional.of(pulled.getFirst());
    }

    /**
     * What a pulled snapshot lacks to load as a model (config.json, tokenizer.json, weights or shards of its
     * index); empty when it is complete. A pull with narrow {@code --include} globs leaves such a snapshot.
     */
    public List<String> missing(CachedModel model) {
        return SnapshotCheck.missing(model.path());
    }

    /** The partial-download path for {@code target}. */
    static Path partialOf(Path target) {
        return target.resolveSibling(target.getFileName() + PARTIAL_SUFFIX);
    }

    private static long sizeOf(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            long total = 0;
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                if (!p.getFileName().toString().endsWith(PARTIAL_SUFFIX)) {
                    total += Files.size(p);
                }
            }
            return total;
        }
    }

    private static String safeSegment(String s, String what) {
        if (s == null || s.isBlank() || s.startsWith("/") || s.contains("..") || s.contains("\\")) {
            throw new IllegalArgumentException("not a valid " + what + ": '" + s + "'");
        }
        return s;
    }
}
