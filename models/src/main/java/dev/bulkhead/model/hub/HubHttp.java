package dev.bulkhead.model.hub;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;

/**
 * GET requests to the hub: adds the token, follows redirects by hand and turns error statuses into
 * {@link HubException}s that say what to do.
 */
final class HubHttp {

    private static final int MAX_REDIRECTS = 10;
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);
    private static final String USER_AGENT = "bulkhead/0.1";

    private final HttpClient client;
    private final HubConfig config;

    HubHttp(HttpClient client, HubConfig config) {
        this.client = Objects.requireNonNull(client, "client");
        this.config = Objects.requireNonNull(config, "config");
    }

    /** A client that never follows redirects itself (see {@link #get}). */
    static HttpClient defaultClient() {
        return HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(30)).build();
    }

    HubConfig config() {
        return config;
    }

    /**
     * GETs {@code uri}, following redirects. Returns the response (body unread) when the status is 2xx or
     * 416 (the caller's Range was past the end); throws {@link HubException} for any other status.
     *
     * @param range a {@code Range} header value, or null
     * @param what  what is being fetched, for error messages ("repository org/x", "file a.json of org/x")
     * @throws IOException on a network failure; the message names the URL
     */
    HttpResponse<InputStream> get(URI uri, String range, String what) throws IOException {
        URI current = uri;
        for (int hop = 0; ; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(current).GET().timeout(REQUEST_TIMEOUT)
                    .header("User-Agent", USER_AGENT);
            if (range != null) {
                b.header("Range", range);
            }
            HttpResponse<InputStream> r = send(b, current, HttpResponse.BodyHandlers.ofInputStream());
            int status = r.statusCode();
            if (isRedirect(status)) {
                String location = r.headers().firstValue("Location").orElse(null);
                r.body().close();
                if (location == null) {
                    throw new HubException(what + ": HTTP " + status + " from " + current + " without a Location header", status, null);
                }
                if (hop >= MAX_REDIRECTS) {
                    throw new HubException(what + ": more than " + MAX_REDIRECTS + " redirects, last to " + location, status, null);
                }
                current = current.resolve(location);
                continue;
            }
            if (status / 100 == 2 || status == 416) {
                return r;
            }
            throw error(status, current, what, r);
        }
    }

    /**
     * Sends one hop of a request to {@code target}, with the token only when the target is the hub's own origin.
     * NOTE: LFS files redirect to a CDN with a signed URL: the token must not leak there, and S3-style signed URLs
     * reject a second Authorization. That is why redirects are followed hop by hop here, not by the client.
     */
    private <T> HttpResponse<T> send(HttpRequest.Builder b, URI target, HttpResponse.BodyHandler<T> handler)
            throws IOException {
        if (config.hasToken() && sameOrigin(target, config.endpoint())) {
            b.header("Authorization", "Bearer " + config.token());
        }
        try {
            return client.send(b.build(), handler);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("interrupted while fetching " + target, e);
        } catch (IOException e) {
            throw new IOException("network error fetching " + target + ": " + describe(e), e);
        }
    }

    /**
     * HEADs {@code uri}, following redirects within the hub's origin only (a renamed repository); a redirect to
     * another origin (the CDN serving an LFS file) is returned as is, since its {@code X-Linked-*} headers describe
     * the file. Throws {@link HubException} for error statuses.
     */
    HttpResponse<Void> head(URI uri, String what) throws IOException {
        URI current = uri;
        for (int hop = 0; ; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(current).method("HEAD", HttpRequest.BodyPublishers.noBody())
                    .timeout(REQUEST_TIMEOUT).header("User-Agent", USER_AGENT).header("Accept-Encoding", "identity");
            HttpResponse<Void> r = send(b, current, HttpResponse.BodyHandlers.discarding());
            int status = r.statusCode();
            if (isRedirect(status)) {
                URI next = r.headers().firstValue("Location").map(current::resolve).orElse(null);
                if (next == null || !sameOrigin(next, config.endpoint()) || hop >= MAX_REDIRECTS) {
                    return r;
                }
                current = next;
                continue;
            }
            if (status / 100 == 2) {
                return r;
            }
            throw error(status, current, what, null);
        }
    }

    private HubException error(int status, URI uri, String what, HttpResponse<InputStream> r) {
        String hubMessage = r == null ? "" : r.headers().firstValue("X-Error-Message").orElseGet(() -> bodyExcerpt(r));
        String detail = hubMessage.isBlank() ? "" : " (hub says: " + hubMessage + ")";
        String message = switch (status) {
            case 401, 403 -> what + ": HTTP " + status + " from " + uri + detail + ". "
                    + (config.hasToken()
                    ? "The token was rejected or has no access: check it, and accept the model's terms on the hub if it is gated."
                    : "The repository is private, gated or does not exist, and it needs a token: set HF_TOKEN "
                    + "(or write one to ~/.cache/huggingface/token).");
            case 404 -> what + " not found: HTTP 404 from " + uri + detail
                    + ". Check the repository id, the revision and the file name.";
            default -> what + ": HTTP " + status + " from " + uri + detail;
        };
        return new HubException(message, status, null);
    }

    private static String bodyExcerpt(HttpResponse<InputStream> r) {
        try (InputStream in = r.body()) {
            String s = new String(in.readNBytes(300), StandardCharsets.UTF_8).strip();
            return s.replaceAll("\\s+", " ");
        } catch (IOException e) {
            return "";
        }
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    private static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost().equalsIgnoreCase(b.getHost())
                && port(a) == port(b);
    }

    private static int port(URI u) {
        return u.getPort() != -1 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    static String describe(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + m;
    }
}
