package dev.bulkhead.model.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client for the Hugging Face hub's model API: lists a repository's files at a revision and pulls the
 * ones a {@link HubFileFilter} selects into a {@link HubCache}, resuming partial downloads and verifying
 * checksums. Every failure is a {@link HubException} naming the URL or file.
 */
public final class HubClient {

    private static final Logger LOG = LoggerFactory.getLogger(HubClient.class);
    private static final Pattern NEXT_LINK = Pattern.compile("<([^>]+)>\\s*;\\s*rel=\"?next\"?");
    private static final int MAX_TREE_PAGES = 1000;
    private static final java.util.Set<Integer> NO_TREE_API = java.util.Set.of(404, 405, 501);
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern GIT_SHA1 = Pattern.compile("[0-9a-f]{40}");

    private final HubHttp http;
    private final Duration readTimeout;
    private final ObjectMapper json = new ObjectMapper();

    /** A client for {@code config} with its own HTTP client. */
    public HubClient(HubConfig config) {
        this(config, HubHttp.defaultClient());
    }

    /** A client for {@code config} using {@code client}, which should not follow redirects itself. */
    public HubClient(HubConfig config, HttpClient client) {
        this(config, client, FileDownloader.DEFAULT_READ_TIMEOUT);
    }

    /**
     * As {@link #HubClient(HubConfig, HttpClient)}, with the time a download may receive nothing before it is
     * abandoned and resumed (10 s by default, as huggingface_hub's {@code HF_HUB_DOWNLOAD_TIMEOUT}).
     */
    public HubClient(HubConfig config, HttpClient client, Duration readTimeout) {
        if (readTimeout == null || readTimeout.isNegative() || readTimeout.isZero()) {
            throw new IllegalArgumentException("read timeout must be positive, got " + readTimeout);
        }
        this.http = new HubHttp(client, config);
        this.readTimeout = readTimeout;
    }

    /** A client for {@code config} with its own HTTP client and the given read timeout. */
    public HubClient(HubConfig config, Duration readTimeout) {
        this(config, HubHttp.defaultClient(), readTimeout);
    }

    /** A client configured from {@code HF_ENDPOINT} and {@code HF_TOKEN} (see {@link HubConfig#fromEnvironment()}). */
    public static HubClient fromEnvironment() {
        return new HubClient(HubConfig.fromEnvironment());
    }

    /** The configuration in use. */
    public HubConfig config() {
        return http.config();
    }

    /**
     * Lists {@code repo}'s files at {@code revision}: names from {@code /api/models/{repo}/revision/{rev}}
     * ({@code siblings[].rfilename}, plus the commit {@code sha}), sizes and checksums from the paginated
     * {@code /api/models/{repo}/tree/{rev}?recursive=true}.
     */
    public RepoFiles listFiles(String repo, String revision) {
        HubCache.checkRepoId(repo);
        String what = "repository " + repo + " at revision " + revision;
        JsonNode info = getJson(api(repo, "revision", revision, ""), what);
        String commit = info.path("sha").asText(revision);
        Map<String, HubFile> meta;
        try {
            meta = treeMetadata(repo, commit.isBlank() ? revision : commit, what);
        } catch (HubException e) {
            if (!NO_TREE_API.contains(e.status()) || !info.has("siblings")) {
                throw e;
            }
            // NOTE: mirrors often serve only the revision and resolve endpoints; pull then asks each file's HEAD.
            LOG.info("{} has no tree API (HTTP {}); sizes and checksums will come from each file's HEAD",
                    http.config().endpoint(), e.status());
            meta = Map.of();
        }
        List<HubFile> files = new ArrayList<>();
        for (JsonNode sibling : info.path("siblings")) {
            String name = sibling.path("rfilename").asText("");
            if (!name.isEmpty()) {
                files.add(meta.getOrDefault(name, HubFile.named(name)));
            }
        }
        if (!info.has("siblings")) {
            files.addAll(meta.values()); // NOTE: some mirrors omit siblings; the tree alone then names the files.
        }
        return new RepoFiles(repo, revision, commit.isBlank() ? revision : commit, files);
    }

    /**
     * Downloads the files of {@code repo} at {@code revision} that {@code filter} keeps into {@code cache};
     * files already complete there are skipped. Returns the snapshot, usable as a model directory.
     */
    public CachedModel pull(String repo, String revision, HubFileFilter filter, HubCache cache, DownloadProgress progress) {
        RepoFiles listing = listFiles(repo, revision);
        List<HubFile> wanted = listing.files().stream().filter(f -> filter.matches(f.path())).toList();
        if (wanted.isEmpty()) {
            List<String> names = listing.files().stream().map(HubFile::path).limit(30).toList();
            throw new HubException("no file of " + repo + "@" + revision + " matches " + filter.globs()
                    + "; it has " + names + (listing.files().size() > names.size() ? " …" : ""));
        }
        Path snapshot = cache.snapshotDir(repo, listing.commit());
        FileDownloader downloader = new FileDownloader(http, readTimeout);
        for (HubFile file : wanted) {
            Path target = cache.fileIn(snapshot, file.path());
            if (isComplete(target, file)) {
                long size = sizeOf(target);
                progress.update(file.path(), size, size);
                continue;
            }
            URI uri = URI.create(http.config().endpoint() + "/" + repo + "/resolve/" + segment(listing.commit())
                    + "/" + filePath(file.path()));
            HubFile described = file.size() < 0 && file.sha256() == null && file.gitSha1() == null
                    ? headMetadata(uri, file, repo) : file;
            LOG.debug("downloading {} from {}", file.path(), uri);
            downloader.download(uri, described, target, progress);
        }
        cache.writeRef(repo, revision, listing.commit());
        long total = wanted.stream().mapToLong(f -> sizeOf(cache.fileIn(snapshot, f.path()))).sum();
        return new CachedModel(repo, revision, listing.commit(), total, snapshot);
    }

    private Map<String, HubFile> treeMetadata(String repo, String rev, String what) {
        Map<String, HubFile> byPath = new LinkedHashMap<>();
        URI next = api(repo, "tree", rev, "?recursive=true");
        for (int page = 0; next != null; page++) {
            if (page >= MAX_TREE_PAGES) {
                throw new HubException(what + ": the file tree has more than " + MAX_TREE_PAGES + " pages");
            }
            HttpResponse<InputStream> r = send(next, what);
            JsonNode entries = parse(r, next);
            for (JsonNode e : entries) {
                if (!"file".equals(e.path("type").asText("file"))) {
                    continue;
                }
                String path = e.path("path").asText("");
                JsonNode lfs = e.path("lfs");
                String sha256 = lfs.isObject() ? lfs.path("oid").asText(null) : null;
                long size = lfs.isObject() && lfs.has("size") ? lfs.path("size").asLong() : e.path("size").asLong(-1);
                String gitSha1 = lfs.isObject() ? null : e.path("oid").asText(null);
                if (!path.isEmpty()) {
                    byPath.put(path, new HubFile(path, size, sha256, gitSha1));
                }
            }
            next = r.headers().allValues("Link").stream().map(NEXT_LINK::matcher).filter(Matcher::find)
                    .map(m -> next(m.group(1))).findFirst().orElse(null);
        }
        return byPath;
    }

    /**
     * What a file's HEAD says about it, as huggingface_hub reads it when there is no tree listing: size from
     * {@code X-Linked-Size} (an LFS file's redirect) or {@code Content-Length}; SHA-256 from {@code X-Linked-Etag}
     * (an LFS file's oid), or the git blob id from a 40-hex {@code ETag}.
     */
    private HubFile headMetadata(URI uri, HubFile file, String repo) {
        HttpResponse<Void> r;
        try {
            r = http.head(uri, "file " + file.path() + " of " + repo);
        } catch (IOException e) {
            throw new HubException(e.getMessage(), e);
        }
        var h = r.headers();
        boolean redirected = r.statusCode() / 100 == 3;
        long size = h.firstValueAsLong("X-Linked-Size")
                .orElse(redirected ? -1 : h.firstValueAsLong("Content-Length").orElse(-1));
        String linked = etag(h.firstValue("X-Linked-Etag").orElse(null));
        String plain = etag(h.firstValue("ETag").orElse(null));
        String sha256 = linked != null && SHA256.matcher(linked).matches() ? linked : null;
        String gitSha1 = sha256 == null && linked == null && plain != null && GIT_SHA1.matcher(plain).matches()
                ? plain : null;
        LOG.debug("HEAD {}: size {}, sha256 {}, git sha1 {}", uri, size, sha256, gitSha1);
        return new HubFile(file.path(), Math.max(-1, size), sha256, gitSha1);
    }

    private static String etag(String raw) {
        if (raw == null) {
            return null;
        }
        String s = raw.strip();
        s = s.startsWith("W/") ? s.substring(2) : s;
        return s.replace("\"", "").toLowerCase(java.util.Locale.ROOT);
    }

    private URI next(String link) {
        return http.config().endpoint().resolve(link);
    }

    private JsonNode getJson(URI uri, String what) {
        return parse(send(uri, what), uri);
    }

    private HttpResponse<InputStream> send(URI uri, String what) {
        try {
            return http.get(uri, null, what);
        } catch (IOException e) {
            throw new HubException(e.getMessage(), e);
        }
    }

    private JsonNode parse(HttpResponse<InputStream> r, URI uri) {
        try (InputStream in = r.body()) {
            return json.readTree(in);
        } catch (IOException e) {
            throw new HubException("bad JSON from " + uri + ": " + HubHttp.describe(e), e);
        }
    }

    private URI api(String repo, String kind, String rev, String query) {
        return URI.create(http.config().endpoint() + "/api/models/" + repo + "/" + kind + "/" + segment(rev) + query);
    }

    private static boolean isComplete(Path target, HubFile file) {
        return Files.isRegularFile(target) && (file.size() < 0 || sizeOf(target) == file.size());
    }

    private static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            throw new HubException("cannot read the size of " + p + ": " + e.getMessage(), e);
        }
    }

    // NOTE: a revision like "refs/pr/1" is one path segment to the hub, so its slashes are escaped.
    private static String segment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String filePath(String path) {
        List<String> parts = new ArrayList<>();
        for (String p : path.split("/", -1)) {
            parts.add(segment(p));
        }
        return String.join("/", parts);
    }
}
