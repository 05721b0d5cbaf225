package dev.bulkhead.server.http;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What web pages may do with the server, Ollama's {@code OLLAMA_ORIGINS} in spirit.
 *
 * <p>A page the user visits can send a POST to a loopback server without a CORS preflight (a {@code text/plain}
 * body), and through DNS rebinding (its own name re-resolved to 127.0.0.1) read the answers. So without API keys the
 * server answers only requests whose {@code Host} is a loopback name or address (or one listed here), and refuses
 * every request that carries an {@code Origin} not listed here. curl and the OpenAI SDKs send no {@code Origin}.
 * Listed origins also get CORS answers (preflights included); with none listed, CORS is off.
 *
 * @param allowedHosts   {@code Host} names accepted besides {@code localhost}, {@code *.localhost} and loopback
 *                       addresses: exact names or {@code *.suffix}; {@code *} accepts any (the check is off)
 * @param allowedOrigins origins ({@code scheme://host[:port]}) whose requests are accepted and answered with CORS
 *                       headers; {@code *} allows any origin
 */
public record BrowserAccess(List<String> allowedHosts, List<String> allowedOrigins) {

    private static final Pattern HOST = Pattern.compile("(\\*|(\\*\\.)?[a-z0-9]([a-z0-9._-]*[a-z0-9])?)");
    private static final Pattern ORIGIN = Pattern.compile("(\\*|null|[a-z][a-z0-9+.-]*://[^/?#\\s]+)");

    public BrowserAccess {
        allowedHosts = normalise(allowedHosts, HOST, "allowed host", "a name such as 'llm.internal' or '*.internal'");
        allowedOrigins = normalise(allowedOrigins, ORIGIN, "allowed origin",
                "scheme://host[:port], such as 'http://localhost:3000'");
    }

    /** Loopback hosts only, no origins: the default. */
    public static BrowserAccess loopbackOnly() {
        return new BrowserAccess(List.of(), List.of());
    }

    /** Parses comma-separated lists, as the CLI and environment variables give them; null or blank means none. */
    public static BrowserAccess parse(String hosts, String origins) {
        return new BrowserAccess(split(hosts), split(origins));
    }

    /** Whether any origin is listed, which turns CORS on. */
    public boolean corsEnabled() {
        return !allowedOrigins.isEmpty();
    }

    /** Whether {@code origin} (an {@code Origin} header's value) is listed. */
    public boolean allowsOrigin(String origin) {
        String o = stripSlash(origin.strip().toLowerCase(Locale.ROOT));
        return allowedOrigins.contains("*") || allowedOrigins.contains(o);
    }

    /** Whether {@code name} (a {@code Host} header's name, without port, lower case) is listed. */
    boolean allowsHostName(String name) {
        for (String h : allowedHosts) {
            if (h.equals("*") || h.equals(name) || (h.startsWith("*.") && name.endsWith(h.substring(1)))) {
                return true;
            }
        }
        return false;
    }

    private static List<String> split(String list) {
        return list == null || list.isBlank() ? List.of()
                : Arrays.stream(list.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    private static List<String> normalise(List<String> values, Pattern valid, String what, String example) {
        List<String> out = new ArrayList<>();
        for (String v : values == null ? List.<String>of() : values) {
            String n = stripSlash(v.strip().toLowerCase(Locale.ROOT));
            if (!valid.matcher(n).matches()) {
                throw new IllegalArgumentException("bad " + what + " '" + v + "': expected " + example);
            }
            out.add(n);
        }
        return List.copyOf(out);
    }

    private static String stripSlash(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }
}
