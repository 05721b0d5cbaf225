package dev.bulkhead.model.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * A fake Hugging Face hub on 127.0.0.1: one repository with its revision and (paginated) tree API, LFS
 * files served through a redirect, Range support, and knobs for failures.
 */
final class HubStub implements AutoCloseable {

    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    /** One request as the stub saw it. */
    record Seen(String path, String range, String authorization) {
    }

    final String repo;
    final Map<String, byte[]> files = new LinkedHashMap<>();
    final Set<String> lfs = ConcurrentHashMap.newKeySet();
    /** Overrides the sha256 the tree API advertises for a file. */
    final Map<String, String> advertisedSha = new ConcurrentHashMap<>();
    /** File → bytes to send before dropping the connection, for the next full (non-Range) request only. */
    final Map<String, Integer> dropAfter = new ConcurrentHashMap<>();
    /** File → bytes to send before going silent (the connection stays open), for the next full request only. */
    final Map<String, Integer> stallAfter = new ConcurrentHashMap<>();
    /** Files served with one byte flipped in the middle (the hub's checksums stay those of the real content). */
    final Set<String> corrupt = ConcurrentHashMap.newKeySet();
    /** Files listed in the revision whose resolve URL answers 404 (deleted from storage). */
    final Set<String> unresolvable = ConcurrentHashMap.newKeySet();
    final List<Seen> seen = new CopyOnWriteArrayList<>();
    /** A mirror that serves only the revision and resolve endpoints: the tree API answers 404. */
    volatile boolean noTreeApi;
    volatile String requiredToken;
    /** Answer Range requests with the whole file (200), like a server without range support. */
    volatile boolean ignoreRange;
    private final HttpServer server;
    // NOTE: LFS content comes from a second server, a different origin like the real hub's CDN.
    private final HttpServer cdn;

    HubStub(String repo) throws IOException {
        this.repo = repo;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        // NOTE: one thread per exchange, so a stalled response does not hold up the request that resumes it.
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        cdn = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        cdn.createContext("/", this::handle);
        cdn.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        cdn.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    HubStub file(String name, byte[] content, boolean isLfs) {
        files.put(name, content);
        if (isLfs) {
            lfs.add(name);
        }
        return this;
    }

    List<Seen> requestsFor(String suffix) {
        return seen.stream().filter(s -> s.path().endsWith(suffix)).toList();
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String gitSha1(byte[] b) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-1");
            md.update(("blob " + b.length + "\0").getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(md.digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        seen.add(new Seen(path, ex.getRequestHeaders().getFirst("Range"), auth));
        try (ex) {
            if (requiredToken != null && !path.startsWith("/cdn/") && !("Bearer " + requiredToken).equals(auth)) {
                ex.getResponseHeaders().add("X-Error-Message", "Invalid credentials in Authorization header");
                send(ex, 401, "{\"error\":\"Invalid credentials\"}");
                return;
            }
            String api = "/api/models/" + repo + "/";
            if (path.startsWith(api + "revision/")) {
                StringBuilder sb = new StringBuilder("{\"id\":\"" + repo + "\",\"sha\":\"" + COMMIT + "\",\"siblings\":[");
                sb.append(String.join(",", files.keySet().stream().map(f -> "{\"rfilename\":\"" + f + "\"}").toList()));
                send(ex, 200, sb.append("]}").toString());
            } else if (path.startsWith(api + "tree/") && !noTreeApi) {
                tree(ex);
            } else if (path.startsWith("/" + repo + "/resolve/") && ex.getRequestMethod().equals("HEAD")) {
                head(ex, path.substring(path.indexOf('/', ("/" + repo + "/resolve/").length()) + 1));
            } else if (path.startsWith("/" + repo + "/resolve/")) {
                String name = path.substring(path.indexOf('/', ("/" + repo + "/resolve/").length()) + 1);
                if (!files.containsKey(name) || unresolvable.contains(name)) {
                    ex.getResponseHeaders().add("X-Error-Code", "EntryNotFound");
                    send(ex, 404, "Entry not found");
                } else if (lfs.contains(name)) {
                    ex.getResponseHeaders().add("Location", "http://127.0.0.1:" + cdn.getAddress().getPort() + "/cdn/" + name + "?signed=1");
                    ex.sendResponseHeaders(302, -1);
                } else {
                    content(ex, name);
                }
            } else if (path.startsWith("/cdn/")) {
                content(ex, path.substring("/cdn/".length()));
            } else {
                ex.getResponseHeaders().add("X-Error-Code", "RepoNotFound");
                send(ex, 404, "{\"error\":\"Repository not found\"}");
            }
        }
    }

    // NOTE: two entries per page with a Link header, like the real hub's cursor pagination.
    private void tree(HttpExchange ex) throws IOException {
        String query = ex.getRequestURI().getQuery() == null ? "" : ex.getRequestURI().getQuery();
        int start = query.contains("cursor=") ? Integer.parseInt(query.substring(query.indexOf("cursor=") + 7)) : 0;
        List<String> names = new ArrayList<>(files.keySet());
        List<String> entries = new ArrayList<>();
        for (int i = start; i < Math.min(names.size(), start + 2); i++) {
            String n = names.get(i);
            byte[] c = files.get(n);
            String e = "{\"type\":\"file\",\"path\":\"" + n + "\",\"size\":" + c.length
                    + ",\"oid\":\"" + (lfs.contains(n) ? "f".repeat(40) : gitSha1(c)) + "\"";
            if (lfs.contains(n)) {
                e += ",\"lfs\":{\"oid\":\"" + advertisedSha.getOrDefault(n, sha256(c)) + "\",\"size\":" + c.length
                        + ",\"pointerSize\":134}";
            }
            entries.add(e + "}");
        }
        if (start == 0) {
            entries.add(0, "{\"type\":\"directory\",\"path\":\"sub\",\"size\":0,\"oid\":\"" + "e".repeat(40) + "\"}");
        }
        if (start + 2 < names.size()) {
            ex.getResponseHeaders().add("Link", "<" + ex.getRequestURI().getPath() + "?recursive=true&cursor="
                    + (start + 2) + ">; rel=\"next\"");
        }
        send(ex, 200, "[" + String.join(",", entries) + "]");
    }

    // NOTE: as the real hub answers a HEAD of resolve: an LFS file's redirect carries X-Linked-Size and
    // X-Linked-Etag (its SHA-256); a plain file's answer carries its git blob id as the ETag.
    private void head(HttpExchange ex, String name) throws IOException {
        byte[] c = files.get(name);
        if (c == null || unresolvable.contains(name)) {
            ex.sendResponseHeaders(404, -1);
            return;
        }
        if (lfs.contains(name)) {
            ex.getResponseHeaders().add("X-Linked-Size", String.valueOf(c.length));
            ex.getResponseHeaders().add("X-Linked-Etag", "\"" + advertisedSha.getOrDefault(name, sha256(c)) + "\"");
            ex.getResponseHeaders().add("Location", "http://127.0.0.1:" + cdn.getAddress().getPort() + "/cdn/" + name);
            ex.sendResponseHeaders(302, -1);
        } else {
            ex.getResponseHeaders().add("ETag", "\"" + gitSha1(c) + "\"");
            ex.sendResponseHeaders(200, -1);
        }
    }

    private void content(HttpExchange ex, String name) throws IOException {
        byte[] c = files.get(name);
        if (corrupt.contains(name)) {
            c = c.clone();
            c[c.length / 2] ^= 0x01;
        }
        String range = ex.getRequestHeaders().getFirst("Range");
        if (range != null && range.startsWith("bytes=") && !ignoreRange) {
            int from = Integer.parseInt(range.substring(6, range.indexOf('-')));
            if (from >= c.length) {
                ex.getResponseHeaders().add("Content-Range", "bytes */" + c.length);
                ex.sendResponseHeaders(416, -1);
                return;
            }
            ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (c.length - 1) + "/" + c.length);
            ex.sendResponseHeaders(206, c.length - from);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(c, from, c.length - from);
            }
            return;
        }
        Integer drop = dropAfter.remove(name);
        Integer stall = stallAfter.remove(name);
        ex.sendResponseHeaders(200, c.length);
        OutputStream out = ex.getResponseBody();
        if (stall != null) {
            out.write(c, 0, stall);
            out.flush();
            try {
                Thread.sleep(30_000); // NOTE: silent, connection open: only a read timeout gets the client out.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("stub stalled after " + stall + " bytes");
        }
        if (drop != null) {
            out.write(c, 0, drop);
            out.flush();
            // NOTE: failing the handler makes the server close the connection mid-body.
            throw new IOException("stub drops the connection after " + drop + " bytes");
        }
        out.write(c);
        out.close();
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }

    @Override
    public void close() {
        server.stop(0);
        cdn.stop(0);
    }
}
