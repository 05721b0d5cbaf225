package dev.bulkhead.model.hub;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Downloads one file into {@code {target}.incomplete}, resuming with {@code Range} after an interruption
 * (also one left by an earlier run), verifies its size and checksum, then renames it to the target.
 */
final class FileDownloader {

    private static final Logger LOG = LoggerFactory.getLogger(FileDownloader.class);
    private static final int ATTEMPTS = 4;
    private static final int BUFFER = 1 << 16;
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
    private static final Pattern UNSATISFIED_RANGE = Pattern.compile("bytes \\*/(\\d+)");

    /** How long a response body may send nothing before the attempt is abandoned and resumed (as huggingface_hub's). */
    static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(10);

    private final HubHttp http;
    private final Duration readTimeout;

    FileDownloader(HubHttp http, Duration readTimeout) {
        this.http = http;
        this.readTimeout = readTimeout;
    }

    /** Downloads {@code file} from {@code uri} to {@code target}; throws {@link HubException} on failure. */
    void download(URI uri, HubFile file, Path target, DownloadProgress progress) {
        Path partial = HubCache.partialOf(target);
        try {
            Files.createDirectories(target.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + target.getParent() + ": " + e.getMessage(), e);
        }
        // NOTE: ATTEMPTS counts failures in a row that brought no new bytes; one that did starts the count over.
        for (int failures = 0; ; ) {
            long before = lengthOf(partial);
            try {
                transfer(uri, file, partial, progress);
                break;
            } catch (IOException e) {
                failures = lengthOf(partial) > before ? 1 : failures + 1;
                if (failures >= ATTEMPTS) {
                    throw new HubException("network error downloading " + file.path() + " from " + uri + " ("
                            + ATTEMPTS + " attempts in a row without progress; the partial file is kept and the next "
                            + "pull resumes it): " + e.getMessage(), e);
                }
                LOG.warn("download of {} interrupted ({}); resuming from byte {}, attempt {}/{}", file.path(),
                        HubHttp.describe(e), lengthOf(partial), failures + 1, ATTEMPTS);
                pause(failures);
            }
        }
        verify(file, partial);
        try {
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move " + partial + " to " + target + ": " + e.getMessage(), e);
        }
    }

    /** One attempt: continues {@code partial} from its current length. */
    private void transfer(URI uri, HubFile file, Path partial, DownloadProgress progress) throws IOException {
        long have = Files.exists(partial) ? Files.size(partial) : 0;
        if (file.size() >= 0 && have > file.size()) {
            Files.delete(partial); // NOTE: longer than the real file, so it is not a prefix of it.
            have = 0;
        }
        if (file.size() >= 0 && have == file.size() && have > 0) {
            progress.update(file.path(), have, have);
            return;
        }
        String what = "file " + file.path();
        HttpResponse<InputStream> r = http.get(uri, have > 0 ? "bytes=" + have + "-" : null, what);
        try (InputStream in = r.body()) {
            int status = r.statusCode();
            boolean append;
            if (status == 206) {
                String range = r.headers().firstValue("Content-Range").orElse("");
                Matcher m = CONTENT_RANGE.matcher(range);
                if (!m.matches() || Long.parseLong(m.group(1)) != have) {
                    throw new HubException(what + ": asked for bytes from " + have + " but the server sent '" + range + "'");
                }
                append = true;
            } else if (status == 416) {
                // NOTE: our partial already reaches the end (size was unknown); anything else means it is not a prefix.
                Matcher m = UNSATISFIED_RANGE.matcher(r.headers().firstValue("Content-Range").orElse(""));
                if (m.matches() && Long.parseLong(m.group(1)) == have) {
                    progress.update(file.path(), have, have);
                    return;
                }
                Files.deleteIfExists(partial);
                throw new IOException("server refused to resume " + file.path() + " at byte " + have + " (HTTP 416)");
            } else {
                append = false; // NOTE: a 200 answer to a Range request means the server ignored it: start over.
                have = 0;
            }
            long length = r.headers().firstValueAsLong("Content-Length").orElse(-1);
            long total = file.size() >= 0 ? file.size() : length >= 0 ? have + length : -1;
            progress.update(file.path(), have, total);
            try (OutputStream out = Files.newOutputStream(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
                 StallGuard guard = new StallGuard(in, readTimeout)) {
                byte[] buf = new byte[BUFFER];
                long done = have;
                try {
                    for (int n; (n = in.read(buf)) >= 0; ) {
                        guard.progressed();
                        out.write(buf, 0, n);
                        done += n;
                        progress.update(file.path(), done, total);
                    }
                } catch (IOException e) {
                    throw guard.fired() ? guard.timeoutException(e) : e;
                }
                if (guard.fired()) {
                    throw guard.timeoutException(null); // NOTE: a closed body may read as a clean end.
                }
                if (length >= 0 && done - have != length) {
                    throw new IOException("connection closed after " + (done - have) + " of " + length + " bytes");
                }
                if (total < 0) {
                    progress.update(file.path(), done, done);
                }
            }
        }
    }

    /** Checks size and checksum; a bad file is deleted so the next pull starts it over. */
    private static void verify(HubFile file, Path partial) {
        try {
            long size = Files.size(partial);
            if (file.size() >= 0 && size != file.size()) {
                Files.deleteIfExists(partial);
                throw new HubException("size mismatch for " + file.path() + ": expected " + file.size()
                        + " bytes, got " + size + "; deleted the download, run pull again");
            }
            if (file.sha256() != null) {
                String actual = digest(partial, "SHA-256", null);
                check(file, partial, "sha256", file.sha256(), actual);
            } else if (file.gitSha1() != null) {
                // NOTE: the hub's oid of a non-LFS file is its git blob id: sha1("blob {size}\0" + content).
                String actual = digest(partial, "SHA-1", ("blob " + size + "\0").getBytes(StandardCharsets.US_ASCII));
                check(file, partial, "git sha1", file.gitSha1(), actual);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot verify " + partial + ": " + e.getMessage(), e);
        }
    }

    private static void check(HubFile file, Path partial, String kind, String expected, String actual) throws IOException {
        if (!expected.equalsIgnoreCase(actual)) {
            Files.deleteIfExists(partial);
            throw new HubException("checksum mismatch for " + file.path() + ": expected " + kind + " " + expected
                    + ", got " + actual + "; deleted the download, run pull again");
        }
    }

    // NOTE: hashing re-reads the finished file rather than the stream, so a resumed download is covered whole.
    private static String digest(Path p, String algorithm, byte[] prefix) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is missing from this JVM", e);
        }
        if (prefix != null) {
            md.update(prefix);
        }
        try (InputStream in = Files.newInputStream(p)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) >= 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static long lengthOf(Path p) {
        try {
            return Files.exists(p) ? Files.size(p) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private static void pause(int attempt) {
        try {
            Thread.sleep(200L * attempt);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("interrupted while waiting to resume a download", e);
        }
    }
}
