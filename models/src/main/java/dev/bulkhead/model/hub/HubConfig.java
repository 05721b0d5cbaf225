package dev.bulkhead.model.hub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * Where the hub is and how to authenticate to it.
 *
 * @param endpoint the hub's base URL, e.g. {@code https://huggingface.co}
 * @param token    a Hugging Face access token, or null for anonymous access; never printed
 */
public record HubConfig(URI endpoint, String token) {

    /** The public Hugging Face hub. */
    public static final URI DEFAULT_ENDPOINT = URI.create("https://huggingface.co");

    public HubConfig {
        Objects.requireNonNull(endpoint, "endpoint");
        String scheme = endpoint.getScheme();
        if (!"https".equals(scheme) && !"http".equals(scheme) || endpoint.getHost() == null) {
            throw new IllegalArgumentException("hub endpoint must be an http(s) URL with a host, got " + endpoint);
        }
        String s = endpoint.toString();
        // NOTE: URLs are built by appending "/api/...", so a trailing slash would double up.
        endpoint = s.endsWith("/") ? URI.create(s.substring(0, s.length() - 1)) : endpoint;
        token = token == null || token.isBlank() ? null : token.strip();
    }

    /** {@link #fromEnvironment(Map, Path)} with the process environment and the user's home directory. */
    public static HubConfig fromEnvironment() {
        return fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home", ".")));
    }

    /**
     * Reads the configuration the way huggingface_hub does: endpoint from {@code HF_ENDPOINT}; token from
     * {@code HF_TOKEN}, else the file {@code HF_TOKEN_PATH}, else {@code $HF_HOME/token}, else
     * {@code ~/.cache/huggingface/token}.
     */
    public static HubConfig fromEnvironment(Map<String, String> env, Path home) {
        String endpoint = env.get("HF_ENDPOINT");
        URI uri = endpoint == null || endpoint.isBlank() ? DEFAULT_ENDPOINT : parseEndpoint(endpoint, "HF_ENDPOINT");
        return new HubConfig(uri, token(env, home));
    }

    /**
     * Parses a hub URL given by a user; the error names {@code field} and, for {@code host:port} without a
     * scheme, suggests the URL meant.
     */
    public static URI parseEndpoint(String text, String field) {
        String s = text == null ? "" : text.strip();
        URI uri;
        try {
            uri = new URI(s);
        } catch (java.net.URISyntaxException e) {
            uri = null;
        }
        if (uri == null || uri.getScheme() == null || uri.getHost() == null
                || !uri.getScheme().equals("http") && !uri.getScheme().equals("https")) {
            String hint = s.contains("://") ? "" : " (did you mean http://" + s + " ?)";
            throw new IllegalArgumentException(field + " must be an http(s) URL with a host, got '" + s + "'" + hint);
        }
        return uri;
    }

    /** The same configuration with another endpoint. */
    public HubConfig withEndpoint(URI other) {
        return new HubConfig(other, token);
    }

    /** Whether a token is configured. */
    public boolean hasToken() {
        return token != null;
    }

    @Override
    public String toString() {
        return "HubConfig[endpoint=" + endpoint + ", token=" + (token == null ? "none" : "<redacted>") + "]";
    }

    private static String token(Map<String, String> env, Path home) {
        String direct = env.get("HF_TOKEN");
        if (direct != null && !direct.isBlank()) {
            return direct;
        }
        Path file;
        if (env.get("HF_TOKEN_PATH") != null && !env.get("HF_TOKEN_PATH").isBlank()) {
            file = Path.of(env.get("HF_TOKEN_PATH"));
        } else if (env.get("HF_HOME") != null && !env.get("HF_HOME").isBlank()) {
            file = Path.of(env.get("HF_HOME"), "token");
        } else {
            file = home.resolve(".cache").resolve("huggingface").resolve("token");
        }
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the Hugging Face token file " + file + ": " + e.getMessage(), e);
        }
    }
}
